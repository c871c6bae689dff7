/**
 * The CLI's single entry for input images: a DICOM folder (recursive), a single DICOM file, or a
 * NIfTI volume (.nii / .nii.gz), told apart by name and content, each read into the core's Volume.
 */
import { readDicomSeries, type DicomSeriesVolume } from '../../../extension/src/core/dicom';
import { RtLiverError } from '../../../extension/src/core/errors';
import { DEFAULT_INPUT_LIMITS, checkLimit, type InputLimits } from '../../../extension/src/core/limits';
import type { Volume } from '../../../extension/src/core/volume';
import { configureNodeWasmCodecs } from './node-wasm';
import { listInputFiles, readBytes, statOrThrow } from './read-files';
import { readNiftiInput } from './nifti-input';

export interface LoadInputOptions {
  /** Which CT series to read when the folder holds several (the CLI's --series). */
  seriesInstanceUID?: string;
  /** Progress while decoding slices. */
  onSlice?: (done: number, total: number) => void;
  /** Size limits checked before allocating (the CLI's --max-frames, --max-voxels, --max-decompressed-mb). */
  limits?: InputLimits;
}

export interface InputTimings {
  /** Finding the files (a NIfTI file: reading it). DICOM files are read while they are parsed and decoded. */
  readFilesMs: number;
  /** Reading DICOM files, parsing, decoding and building the volume. */
  buildVolumeMs: number;
}

export type LoadedInput =
  | ({ kind: 'dicom'; path: string; fileCount: number; timingsMs: InputTimings } & DicomSeriesVolume)
  | { kind: 'nifti'; path: string; volume: Volume; warnings: string[]; timingsMs: InputTimings };

export function isNiftiPath(path: string): boolean {
  return /\.nii(\.gz)?$/i.test(path);
}

export async function loadInput(path: string, options: LoadInputOptions = {}): Promise<LoadedInput> {
  const stats = statOrThrow(path);
  const start = performance.now();
  const limits = options.limits ?? DEFAULT_INPUT_LIMITS;
  if (stats.isFile() && isNiftiPath(path)) {
    if (!/\.gz$/i.test(path)) checkLimit(limits, 'maxDecompressedBytes', stats.size, `${path} is ${(stats.size / 1024 ** 2).toFixed(1)} MB`);
    const bytes = readBytes(path);
    const read = performance.now();
    const { volume, warnings } = readNiftiInput(bytes, path, limits);
    return {
      kind: 'nifti',
      path,
      volume,
      warnings,
      timingsMs: { readFilesMs: read - start, buildVolumeMs: performance.now() - read },
    };
  }
  const notes: string[] = [];
  const files = listInputFiles(path, notes);
  if (stats.isDirectory()) {
    const nifti = files.filter((file) => isNiftiPath(file.name));
    if (nifti.length > 0 && nifti.length === files.length) {
      throw new RtLiverError(
        'INPUT_FOLDER_OF_NIFTI',
        `The folder ${path} holds NIfTI files (${nifti.map((file) => file.name).join(', ')}), not a DICOM series.`,
        'Pass the .nii/.nii.gz file itself.',
      );
    }
  }
  const read = performance.now();
  configureNodeWasmCodecs();
  let dicom: DicomSeriesVolume;
  try {
    dicom = await readDicomSeries(files, { ...options, limits });
  } catch (error) {
    if (stats.isFile() && error instanceof RtLiverError && error.code === 'DICOM_SINGLE_SLICE') {
      throw new RtLiverError(error.code, `${path} is a single slice.`, 'Pass the folder that holds the whole series, not one of its files.', { cause: error });
    }
    throw error;
  }
  dicom.warnings.unshift(...notes);
  return {
    kind: 'dicom',
    path,
    fileCount: files.length,
    ...dicom,
    timingsMs: { readFilesMs: read - start, buildVolumeMs: performance.now() - read },
  };
}
