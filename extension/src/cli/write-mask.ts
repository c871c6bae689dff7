/**
 * --mask: the liver mask as NIfTI on the input's own grid (affine from its LPS geometry, label
 * intent), through the core's NIfTI writer; gzipped when the name ends in .gz.
 */
import { writeFileSync } from 'node:fs';
import { RtLiverError } from '../core/errors';
import { writeNifti } from '../core/nifti';
import type { Volume } from '../core/volume';

export function writeMaskFile(mask: Volume<Uint8Array>, path: string, description = 'rt-liver liver mask'): void {
  if (!/\.nii(\.gz)?$/i.test(path)) {
    throw new RtLiverError('MASK_NAME', `--mask ${path}: the mask is written as NIfTI.`, 'Give a file name ending in .nii or .nii.gz.');
  }
  // Level 1: a 512 x 512 x 200 mask is mostly zeros and compresses well even at the fastest level.
  const bytes = writeNifti(mask, { gzip: /\.gz$/i.test(path), gzipLevel: 1, intent: 'label', description });
  try {
    writeFileSync(path, new Uint8Array(bytes));
  } catch (error) {
    throw new RtLiverError('MASK_WRITE_FAILED', `Cannot write ${path}: ${(error as Error).message}.`, 'Check that the folder exists and is writable.');
  }
}
