/**
 * --mask: the liver mask as NIfTI on the input's own grid (affine from its LPS geometry), through the
 * core's NIfTI writer; gzip when the name ends in .gz.
 */
import { RtLiverError } from '../core/errors';
import type { Volume } from '../core/volume';

export function writeMaskFile(_mask: Volume<Uint8Array>, path: string): void {
  throw new RtLiverError(
    'NIFTI_WRITER_UNAVAILABLE',
    `Cannot write ${path}: the NIfTI writer is not available in this build yet.`,
    'Leave out --mask, or use --out for a DICOM SEG.',
  );
}
