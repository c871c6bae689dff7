/**
 * NIfTI (.nii or .nii.gz, NIfTI-1 or NIfTI-2, either byte order) to a Volume in LPS.
 */
import { Gunzip } from 'fflate';
import { RtLiverError } from '../errors';
import { DEFAULT_INPUT_LIMITS, allocateVoxels, checkLimit, type InputLimits } from '../limits';
import type { Vec3, Volume, VoxelArray } from '../volume';
import { type TransformSource, affineToGeometry, flipRasLps, headerAffine } from './affine';
import { NIFTI1_HEADER_SIZE, NIFTI2_HEADER_SIZE, NIFTI_TYPE, type NiftiHeader, parseNiftiHeader } from './header';

/** The extension flag (4 bytes) that follows the header in a .nii file (NIfTI-1 and -2). */
const EXTENSION_FLAG_BYTES = 4;

export interface NiftiReadResult {
  volume: Volume;
  header: NiftiHeader;
  /** Which transform gave the geometry: the sform, else the qform, else voxel sizes alone. */
  transform: TransformSource;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** True when the bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.byteLength > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export function readNifti(bytes: ArrayBuffer | Uint8Array, limits: InputLimits = DEFAULT_INPUT_LIMITS): Volume {
  return readNiftiDetailed(bytes, limits).volume;
}

/**
 * `limits`: the image's voxel count and its bytes are checked from the header, before the voxels
 * are allocated; a .nii.gz is decompressed only as far as its header says the image goes, so a small
 * file that unpacks to gigabytes costs no more than the image it claims to hold.
 */
export function readNiftiDetailed(input: ArrayBuffer | Uint8Array, limits: InputLimits = DEFAULT_INPUT_LIMITS): NiftiReadResult {
  let bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (isGzip(bytes)) bytes = gunzipImage(bytes, limits);
  const header = parseNiftiHeader(bytes);
  if (header.magic === 'ni1' || header.magic === 'ni2') {
    throw new RtLiverError('NIFTI_SEPARATE_FILES', 'This is the header of a .hdr/.img pair; only single-file NIfTI is read.',
      'Convert it to .nii or .nii.gz (for example with nibabel or c3d).');
  }
  const dimensions = spatialDimensions(header);
  const count = dimensions[0] * dimensions[1] * dimensions[2];
  checkLimit(limits, 'maxVoxels', count, `The NIfTI image is ${dimensions.join(' x ')} voxels`);
  const { affine, source } = headerAffine(header, dimensions);
  const geometry = affineToGeometry(flipRasLps(affine), dimensions, source);
  const voxels = readVoxels(bytes, header, count);
  return { volume: { ...geometry, voxels }, header, transform: source };
}

/** Bytes per voxel on disk of a supported datatype (undefined for others). */
function bytesPerVoxel(datatype: number): number | undefined {
  return DATATYPES[datatype]?.bytes;
}

/** The byte count a header says its single-file image needs: voxel offset plus voxels. */
function imageByteCount(header: NiftiHeader): number | undefined {
  const perVoxel = bytesPerVoxel(header.datatype);
  if (perVoxel === undefined) return undefined;
  const dimensions = spatialDimensions(header);
  return Math.max(header.voxOffset, header.version === 1 ? 352 : 544) + dimensions[0] * dimensions[1] * dimensions[2] * perVoxel;
}

/**
 * Decompresses a .nii.gz as a stream: first the header, then (limits permitting) exactly the bytes
 * the header says the image needs, into one buffer allocated once. Whatever follows is not unpacked.
 */
function gunzipImage(compressed: Uint8Array, limits: InputLimits): Uint8Array {
  const chunks: Uint8Array[] = [];
  let received = 0;
  let image: Uint8Array | undefined;
  let filled = 0;
  let ended = false;
  const stream = new Gunzip((chunk, final) => {
    if (final) ended = true;
    if (image) {
      const take = Math.min(chunk.length, image.length - filled);
      image.set(chunk.subarray(0, take), filled);
      filled += take;
    } else {
      chunks.push(chunk);
      received += chunk.length;
    }
  });
  const concat = () => {
    const whole = new Uint8Array(received);
    let offset = 0;
    for (const chunk of chunks) {
      whole.set(chunk, offset);
      offset += chunk.length;
    }
    return whole;
  };
  const STEP = 1 << 16;
  try {
    let position = 0;
    // The header: the first 540 bytes (NIfTI-2's size; NIfTI-1 needs 348), or the whole stream if shorter.
    while (received < NIFTI2_HEADER_SIZE && position < compressed.length) {
      const next = Math.min(compressed.length, position + STEP);
      stream.push(compressed.subarray(position, next), next === compressed.length);
      position = next;
    }
    const head = concat();
    if (received < NIFTI2_HEADER_SIZE && ended) return head; // a tiny or truncated file: the parser says what is wrong
    const header = parseNiftiHeader(head);
    const needed = imageByteCount(header);
    if (needed === undefined) return head; // unsupported datatype: readVoxels names it
    const dimensions = spatialDimensions(header);
    checkLimit(limits, 'maxVoxels', dimensions[0] * dimensions[1] * dimensions[2], `The NIfTI image is ${dimensions.join(' x ')} voxels`);
    checkLimit(limits, 'maxDecompressedBytes', needed, `The NIfTI image needs ${(needed / 1024 ** 2).toFixed(1)} MB once decompressed`);
    image = allocateVoxels(needed, 1, (count) => new Uint8Array(count), 'The NIfTI image');
    const start = Math.min(head.length, needed);
    image.set(head.subarray(0, start));
    filled = start;
    chunks.length = 0;
    while (filled < needed && position < compressed.length) {
      const next = Math.min(compressed.length, position + STEP);
      stream.push(compressed.subarray(position, next), next === compressed.length);
      position = next;
    }
    // Cut short: the voxel reader reports the truncation with the sizes.
    return filled < needed ? image.subarray(0, filled) : image;
  } catch (error) {
    if (error instanceof RtLiverError) throw error;
    throw new RtLiverError('NIFTI_BAD_GZIP', `The .nii.gz file could not be decompressed (${(error as Error).message}).`,
      'The file is truncated or damaged; copy or export it again.', { cause: error });
  }
}

function spatialDimensions(header: NiftiHeader): Vec3 {
  const rank = header.dim[0];
  if (!(rank >= 1 && rank <= 7)) {
    throw new RtLiverError('NIFTI_BAD_DIMENSIONS', `The NIfTI header says the image has ${rank} dimensions.`, 'The header is damaged; export the file again.');
  }
  const size = (axis: number) => (axis <= rank ? header.dim[axis] : 1);
  const dimensions = [size(1), size(2), size(3)] as Vec3;
  if (!dimensions.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new RtLiverError('NIFTI_BAD_DIMENSIONS', `The NIfTI image size ${dimensions.join('x')} is not valid.`, 'The header is damaged; export the file again.');
  }
  const extra = [4, 5, 6, 7].map(size).filter((n) => n > 1);
  if (extra.length > 0) {
    throw new RtLiverError('NIFTI_NOT_3D', `The NIfTI image has more than three dimensions (${header.dim.slice(1, rank + 1).join('x')}).`,
      'Give a single 3-D volume: extract one time point or channel first (for example fslroi or nibabel).');
  }
  return dimensions;
}

/** The on-disk element type of each supported datatype, and the Volume array it becomes. */
const DATATYPES: Record<number, { bytes: number; read: (view: DataView, offset: number, le: boolean) => number; make: (n: number) => VoxelArray; integer: boolean }> = {
  [NIFTI_TYPE.UINT8]: { bytes: 1, read: (v, o) => v.getUint8(o), make: (n) => new Uint8Array(n), integer: true },
  [NIFTI_TYPE.INT8]: { bytes: 1, read: (v, o) => v.getInt8(o), make: (n) => new Int16Array(n), integer: true },
  [NIFTI_TYPE.INT16]: { bytes: 2, read: (v, o, le) => v.getInt16(o, le), make: (n) => new Int16Array(n), integer: true },
  [NIFTI_TYPE.UINT16]: { bytes: 2, read: (v, o, le) => v.getUint16(o, le), make: (n) => new Uint16Array(n), integer: true },
  [NIFTI_TYPE.INT32]: { bytes: 4, read: (v, o, le) => v.getInt32(o, le), make: (n) => new Int32Array(n), integer: true },
  [NIFTI_TYPE.FLOAT32]: { bytes: 4, read: (v, o, le) => v.getFloat32(o, le), make: (n) => new Float32Array(n), integer: false },
  // float64 is narrowed to float32: ample for CT numbers and masks.
  [NIFTI_TYPE.FLOAT64]: { bytes: 8, read: (v, o, le) => v.getFloat64(o, le), make: (n) => new Float32Array(n), integer: false },
};

function readVoxels(bytes: Uint8Array, header: NiftiHeader, count: number): VoxelArray {
  const type = DATATYPES[header.datatype];
  if (!type) {
    throw new RtLiverError('NIFTI_UNSUPPORTED_DATATYPE', `NIfTI datatype ${header.datatype} is not supported.`,
      'Convert the image to int16, uint8/16, int8, int32, float32 or float64 (for example with nibabel).');
  }
  // Voxels start after the header and the 4-byte extension flag at the earliest, whatever vox_offset says.
  const offset = Math.max(header.voxOffset, (header.version === 1 ? NIFTI1_HEADER_SIZE : NIFTI2_HEADER_SIZE) + EXTENSION_FLAG_BYTES);
  const end = offset + count * type.bytes;
  if (!Number.isFinite(offset) || end > bytes.byteLength) {
    throw new RtLiverError('NIFTI_TRUNCATED', `The NIfTI file holds ${bytes.byteLength} bytes but its ${count} voxels need ${end}.`,
      'The file is truncated; copy or export it again.');
  }
  let voxels = allocateVoxels(count, type.bytes, type.make, 'The NIfTI image');
  const sameTypeOnDisk = type.bytes === voxels.BYTES_PER_ELEMENT && header.datatype !== NIFTI_TYPE.FLOAT64;
  if (sameTypeOnDisk && header.littleEndian === HOST_LITTLE_ENDIAN) {
    // Fast path: a byte copy (also aligns the data, which a sub-view at vox_offset may not be).
    new Uint8Array(voxels.buffer).set(bytes.subarray(offset, end));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let p = 0; p < count; p++) voxels[p] = type.read(view, offset + p * type.bytes, header.littleEndian);
  }
  voxels = applyScaling(voxels, header, type.integer);
  return voxels;
}

/**
 * scl_slope / scl_inter (value = slope * stored + inter; a slope of 0 or NaN means unscaled). Integer
 * results that fit stay integer (int16 CT numbers stored as uint16 + intercept, say); others become
 * float32.
 */
function applyScaling(voxels: VoxelArray, header: NiftiHeader, integerStorage: boolean): VoxelArray {
  const slope = header.sclSlope;
  const inter = Number.isFinite(header.sclInter) ? header.sclInter : 0;
  if (!Number.isFinite(slope) || slope === 0 || (slope === 1 && inter === 0)) return voxels;
  let lo = Infinity;
  let hi = -Infinity;
  for (let p = 0; p < voxels.length; p++) {
    if (voxels[p] < lo) lo = voxels[p];
    if (voxels[p] > hi) hi = voxels[p];
  }
  const ends = [slope * lo + inter, slope * hi + inter];
  const min = Math.min(...ends);
  const max = Math.max(...ends);
  const integral = integerStorage && Number.isInteger(slope) && Number.isInteger(inter);
  const out: VoxelArray = integral && min >= -32768 && max <= 32767
    ? new Int16Array(voxels.length)
    : integral && min >= -2147483648 && max <= 2147483647
      ? new Int32Array(voxels.length)
      : new Float32Array(voxels.length);
  for (let p = 0; p < voxels.length; p++) out[p] = slope * voxels[p] + inter;
  return out;
}
