/**
 * NIfTI headers that lie: a small .nii.gz whose header claims a billion voxels (it took 3.2 GB and
 * 20 s and "found" a 352 L liver), an image followed by a flood of zeros, voxel sizes of 0 (read as
 * 1 mm: 184 mL instead of 4,981) or below 0. Each is refused from the header, before the voxels are
 * allocated or the rest of the stream is unpacked, or read exactly as far as the header says.
 */
import { gzipSync } from 'fflate';
import { RtLiverError } from '../errors';
import { InputLimitError, inputLimits } from '../limits';
import type { Volume } from '../volume';
import { readNiftiDetailed, writeNifti } from './index';

const small: Volume<Int16Array> = {
  voxels: new Int16Array(8 * 6 * 5).map((_, index) => index - 100),
  dimensions: [8, 6, 5],
  spacing: [0.8, 0.8, 2.5],
  origin: [10, -20, 30],
  direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
};

/** The uncompressed NIfTI-1 file of `small`, with header fields patched through `edit`. */
function niftiBytes(edit: (view: DataView) => void = () => {}): Uint8Array {
  const bytes = new Uint8Array(writeNifti(small, { gzip: false }));
  edit(new DataView(bytes.buffer));
  return bytes;
}

const setDims = (view: DataView, dims: number[]) => dims.forEach((value, i) => view.setInt16(42 + 2 * i, value, true));
const setPixdim = (view: DataView, sizes: number[]) => sizes.forEach((value, i) => view.setFloat32(80 + 4 * i, value, true));
const setTransformCodes = (view: DataView, qform: number, sform: number) => {
  view.setInt16(252, qform, true);
  view.setInt16(254, sform, true);
};

function readError(bytes: Uint8Array, limits = inputLimits()): RtLiverError {
  try {
    readNiftiDetailed(bytes, limits);
  } catch (error) {
    if (error instanceof RtLiverError) return error;
    throw error;
  }
  throw new Error('expected the file to be refused');
}

test('a small .nii.gz that claims 1000 x 1000 x 1000 voxels is refused from its header', () => {
  const header = niftiBytes((view) => {
    setDims(view, [1000, 1000, 1000]);
    view.setInt16(70, 2, true); // uint8
    view.setInt16(72, 8, true);
  }).subarray(0, 352);
  // The header and 8 MB of zeros (the real bomb holds 1 GB; the header alone decides).
  const body = new Uint8Array(352 + 8 * 1024 ** 2);
  body.set(header);
  const gz = gzipSync(body, { level: 1 });
  const rssBefore = process.memoryUsage().rss;
  const start = performance.now();
  const error = readError(gz);
  expect(performance.now() - start).toBeLessThan(500);
  expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 ** 2);
  expect(error).toBeInstanceOf(InputLimitError);
  expect((error as InputLimitError).limit).toBe('maxVoxels');
  expect(error.message).toMatch(/1000 x 1000 x 1000 voxels: 1,000,000,000 voxels, over the limit of 536,870,912/);
});

test('a .nii.gz is unpacked only as far as its image goes: trailing zeros cost nothing', () => {
  const image = niftiBytes();
  const padded = new Uint8Array(image.length + 64 * 1024 ** 2); // 64 MB of zeros after the voxels
  padded.set(image);
  const gz = gzipSync(padded, { level: 1 });
  const { volume } = readNiftiDetailed(gz, inputLimits({ maxDecompressedBytes: 1024 ** 2 }));
  expect(Array.from(volume.voxels)).toEqual(Array.from(small.voxels));
});

test('the decompressed-size limit is checked before the image is unpacked', () => {
  const gz = gzipSync(niftiBytes());
  const error = readError(gz, inputLimits({ maxDecompressedBytes: 500 }));
  expect(error).toBeInstanceOf(InputLimitError);
  expect((error as InputLimitError).limit).toBe('maxDecompressedBytes');
  expect(error.message).toMatch(/needs 0\.0 MB once decompressed: 832 bytes, over the limit of 500/);
});

test('a truncated .nii.gz still says it is truncated', () => {
  const gz = gzipSync(niftiBytes());
  expect(readError(gz.subarray(0, gz.length - 40)).code).toMatch(/NIFTI_TRUNCATED|NIFTI_BAD_GZIP/);
});

test.each([
  ['qform', 1, 0],
  ['header (no sform or qform)', 0, 0],
])('a voxel size of 0 is refused when the %s gives the spacing', (source, qform, sform) => {
  const error = readError(niftiBytes((view) => {
    setTransformCodes(view, qform, sform);
    setPixdim(view, [0.8, 0.8, 0]);
  }));
  expect(error.code).toBe('NIFTI_BAD_VOXEL_SIZE');
  expect(error.message).toContain(source);
  expect(error.message).toMatch(/0\.8\d* x 0\.8\d* x 0 mm.*k has 0 mm/);
});

test.each([[-2.5], [Number.NaN], [Number.POSITIVE_INFINITY]])('a voxel size of %s is refused', (size) => {
  const error = readError(niftiBytes((view) => {
    setTransformCodes(view, 1, 0);
    setPixdim(view, [0.8, size, 2.5]);
  }));
  expect(error.code).toBe('NIFTI_BAD_VOXEL_SIZE');
  expect(error.message).toMatch(/j has/);
});

test('the sform decides when present: pixdim 0 does not matter then', () => {
  const { volume } = readNiftiDetailed(niftiBytes((view) => setPixdim(view, [0, 0, 0])));
  expect(volume.spacing.map((s) => Number(s.toFixed(4)))).toEqual([0.8, 0.8, 2.5]);
});

test('a one-voxel axis may have voxel size 0 (2-D images write it so)', () => {
  const flat = readNiftiDetailed(niftiBytes((view) => {
    setDims(view, [8, 30, 1]);
    setTransformCodes(view, 1, 0);
    setPixdim(view, [0.8, 0.8, 0]);
  }));
  expect(flat.volume.dimensions).toEqual([8, 30, 1]);
});
