/**
 * --mask: the liver mask as NIfTI on the input's own grid (affine from its LPS geometry, label
 * intent), through the core's NIfTI writer; gzipped when the name ends in .gz. The bytes are made
 * here and written by OutputWriter (outputs.ts), whole or not at all.
 */
import { RtLiverError } from '../../extension/src/core/errors';
import { writeNifti } from '../../extension/src/core/nifti';
import type { Volume } from '../../extension/src/core/volume';

/** Refuses a --mask name that is not NIfTI, before any work is done. */
export function checkMaskName(path: string): void {
  if (!/\.nii(\.gz)?$/i.test(path)) {
    throw new RtLiverError('MASK_NAME', `--mask ${path}: the mask is written as NIfTI.`, 'Give a file name ending in .nii or .nii.gz.');
  }
}

export function encodeMaskFile(mask: Volume<Uint8Array>, path: string, description = 'rt-liver liver mask'): Uint8Array {
  checkMaskName(path);
  // Level 1: a 512 x 512 x 200 mask is mostly zeros and compresses well even at the fastest level.
  return new Uint8Array(writeNifti(mask, { gzip: /\.gz$/i.test(path), gzipLevel: 1, intent: 'label', description }));
}
