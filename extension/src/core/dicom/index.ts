/**
 * DICOM CT series to Volume: parse headers, choose the CT series, build the HU volume on its exact grid.
 * Platform-neutral: bytes in, typed arrays out (runs in a Web Worker and in Node).
 */
import type { DicomFileSource } from './parse-instances';
import { parseDicomInstances } from './parse-instances';
import { buildVolume, type BuildVolumeOptions, type DicomSeriesVolume } from './build-volume';
import { selectCtSeries } from './select-series';
import { RtLiverError } from '../errors';

export { parseDicomInstances, type DicomFileBytes, type DicomFileReader, type DicomFileSource } from './parse-instances';
export { selectCtSeries, groupSeries, describeSeries, isCtInstance, type DicomSeries, type SelectSeriesOptions } from './select-series';
export {
  buildVolume,
  type BuildVolumeOptions,
  type DicomSeriesVolume,
  type DicomSliceReference,
  type DicomSeriesInfo,
} from './build-volume';
export type { DicomInstance, ParsedInstances, SkippedFile, PatientStudyAttributes } from './instance';
export { configureWasmCodecs, WASM_FILES, type WasmCodecName, type WasmLocator, type WasmSource } from './codecs/wasm-codecs';
export { supportedTransferSyntaxes, transferSyntaxName } from './transfer-syntax';

export interface ReadDicomSeriesOptions extends BuildVolumeOptions {
  seriesInstanceUID?: string;
}

/**
 * The whole path in one call. Notes on ignored non-DICOM files and warnings on skipped damaged files
 * from other series are added to the result's warnings, so the caller can show them.
 */
export async function readDicomSeries(files: readonly DicomFileSource[], options: ReadDicomSeriesOptions = {}): Promise<DicomSeriesVolume> {
  const { instances, skipped } = parseDicomInstances(files, options.limits);
  const series = selectCtSeries(instances, { seriesInstanceUID: options.seriesInstanceUID, skipped });
  const otherDamaged = skipped.filter((file) => file.kind === 'corrupt' && !series.damagedFiles.includes(file));
  const notDicom = skipped.filter((file) => file.kind === 'not-dicom');
  let result: DicomSeriesVolume;
  try {
    result = await buildVolume(series, options);
  } catch (error) {
    // A file that could not be read (damaged, or cut so short it no longer looks like DICOM) may well
    // be the missing slice: say so.
    const unreadable = [...otherDamaged, ...notDicom];
    if (error instanceof RtLiverError && error.code === 'DICOM_MISSING_SLICE' && unreadable.length > 0) {
      throw new RtLiverError(
        error.code,
        `${error.message} ${unreadable.length} file(s) could not be read as DICOM and may hold it: ` +
          unreadable.map((file) => `${file.name} (${file.reason})`).join('; ') + '.',
        error.hint,
      );
    }
    throw error;
  }
  if (otherDamaged.length > 0) {
    result.warnings.unshift(
      `Skipped ${otherDamaged.length} damaged DICOM file(s) whose series is unknown or not the chosen one: ` +
        otherDamaged.map((file) => `${file.name} (${file.reason})`).join('; ') + '.',
    );
  }
  if (notDicom.length > 0) {
    const examples = notDicom.slice(0, 5).map((file) => file.name).join(', ');
    result.warnings.unshift(`Ignored ${notDicom.length} file(s) that are not DICOM images: ${examples}${notDicom.length > 5 ? ', ...' : ''}.`);
  }
  return result;
}
