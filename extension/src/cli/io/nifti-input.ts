/** NIfTI input, read by the core's NIfTI reader once it is available. */
import { RtLiverError } from '../../core/errors';
import type { Volume } from '../../core/volume';

export function readNiftiInput(_bytes: Uint8Array, path: string): Volume {
  throw new RtLiverError('INPUT_NIFTI_UNAVAILABLE', `Cannot read ${path}: NIfTI input is not wired yet.`, 'Use a DICOM folder for now.');
}
