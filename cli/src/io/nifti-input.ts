/** NIfTI input for the CLI: the core's reader, with the file named in errors and a note on weak geometry. */
import { RtLiverError, isRtLiverError } from '../../../extension/src/core/errors';
import { InputLimitError, type InputLimits } from '../../../extension/src/core/limits';
import { readNiftiDetailed } from '../../../extension/src/core/nifti';
import type { Volume } from '../../../extension/src/core/volume';

export function readNiftiInput(bytes: Uint8Array, path: string, limits?: InputLimits): { volume: Volume; warnings: string[] } {
  try {
    const { volume, transform } = readNiftiDetailed(bytes, limits);
    const warnings =
      transform === 'pixdim'
        ? [`${path} has neither an sform nor a qform: its geometry comes from voxel sizes alone (no position or orientation).`]
        : [];
    return { volume, warnings };
  } catch (error) {
    if (error instanceof InputLimitError) throw new InputLimitError(error.limit, error.actual, error.allowed, `${path}: ${error.message}`);
    if (isRtLiverError(error)) {
      throw new RtLiverError(error.code, `${path}: ${error.message}`, error.hint, { cause: error });
    }
    throw error;
  }
}
