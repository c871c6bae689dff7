/**
 * A Volume (LPS) to a single-file NIfTI-1 (.nii, or .nii.gz with `gzip`), little-endian, with both
 * the sform and (for orthogonal grids) the qform set to the same RAS affine, as nibabel writes them.
 */
import { gzipSync } from 'fflate';
import { RtLiverError } from '../errors';
import type { Volume, VoxelArray } from '../volume';
import { affineToGeometry, affineToQuaternion, flipRasLps, geometryToAffine } from './affine';
import { NIFTI_INTENT_LABEL, NIFTI_TYPE, NIFTI_XFORM_SCANNER_ANAT, serializeNifti1Header } from './header';

export interface NiftiWriteOptions {
  /** Gzip the file (.nii.gz). */
  gzip?: boolean;
  /** fflate level 1 (fastest) to 9 (smallest); default 6. */
  gzipLevel?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  /** Up to 79 ASCII characters in the header's descrip field. */
  description?: string;
  /** Mark the image as a label map (intent NIFTI_INTENT_LABEL), as segmentation masks are. */
  intent?: 'label';
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function datatypeOf(voxels: VoxelArray): { datatype: number; bitpix: number } {
  if (voxels instanceof Uint8Array) return { datatype: NIFTI_TYPE.UINT8, bitpix: 8 };
  if (voxels instanceof Int16Array) return { datatype: NIFTI_TYPE.INT16, bitpix: 16 };
  if (voxels instanceof Uint16Array) return { datatype: NIFTI_TYPE.UINT16, bitpix: 16 };
  if (voxels instanceof Int32Array) return { datatype: NIFTI_TYPE.INT32, bitpix: 32 };
  if (voxels instanceof Float32Array) return { datatype: NIFTI_TYPE.FLOAT32, bitpix: 32 };
  throw new RtLiverError('NIFTI_UNSUPPORTED_DATATYPE', 'The volume\'s voxel array type cannot be written as NIfTI.', 'Use a Uint8, Int16, Uint16, Int32 or Float32 array.');
}

export function writeNifti(volume: Volume, options: NiftiWriteOptions = {}): ArrayBuffer {
  const [nx, ny, nz] = volume.dimensions;
  if (volume.voxels.length !== nx * ny * nz) {
    throw new RtLiverError('NIFTI_VOXEL_COUNT', `The volume holds ${volume.voxels.length} voxels but its dimensions say ${nx * ny * nz}.`,
      'Build the Volume with voxels.length = nx * ny * nz.');
  }
  const lps = geometryToAffine(volume);
  affineToGeometry(lps, volume.dimensions, 'sform'); // refuses singular or non-finite geometry up front
  const ras = flipRasLps(lps);
  const quaternion = affineToQuaternion(ras);
  const { datatype, bitpix } = datatypeOf(volume.voxels);
  const header = serializeNifti1Header({
    dim: [3, nx, ny, nz, 1, 1, 1, 1],
    datatype,
    bitpix,
    pixdim: [quaternion?.qfac ?? 1, ...volume.spacing, 0, 0, 0, 0],
    sclSlope: 1,
    sclInter: 0,
    qformCode: quaternion ? NIFTI_XFORM_SCANNER_ANAT : 0,
    sformCode: NIFTI_XFORM_SCANNER_ANAT,
    quatern: quaternion?.quatern ?? [0, 0, 0],
    qoffset: quaternion?.qoffset ?? [ras[0][3], ras[1][3], ras[2][3]],
    srow: ras,
    intentCode: options.intent === 'label' ? NIFTI_INTENT_LABEL : 0,
    xyztUnits: 2, // NIFTI_UNITS_MM
    descrip: options.description ?? 'rt-liver',
  });
  const file = new Uint8Array(header.byteLength + volume.voxels.byteLength);
  file.set(header, 0);
  if (HOST_LITTLE_ENDIAN) {
    file.set(new Uint8Array(volume.voxels.buffer, volume.voxels.byteOffset, volume.voxels.byteLength), header.byteLength);
  } else {
    writeLittleEndian(new DataView(file.buffer), header.byteLength, volume.voxels);
  }
  const out = options.gzip ? gzipSync(file, { level: options.gzipLevel ?? 6 }) : file;
  return out.buffer.byteLength === out.byteLength ? (out.buffer as ArrayBuffer) : (out.slice().buffer as ArrayBuffer);
}

function writeLittleEndian(view: DataView, offset: number, voxels: VoxelArray): void {
  const size = voxels.BYTES_PER_ELEMENT;
  for (let p = 0; p < voxels.length; p++) {
    const at = offset + p * size;
    if (voxels instanceof Uint8Array) view.setUint8(at, voxels[p]);
    else if (voxels instanceof Int16Array) view.setInt16(at, voxels[p], true);
    else if (voxels instanceof Uint16Array) view.setUint16(at, voxels[p], true);
    else if (voxels instanceof Int32Array) view.setInt32(at, voxels[p], true);
    else view.setFloat32(at, voxels[p], true);
  }
}
