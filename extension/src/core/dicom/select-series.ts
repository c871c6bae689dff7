/**
 * Grouping instances into series and choosing the CT series to segment.
 *
 * Series are keyed by SeriesInstanceUID. Instances without one (anonymizers sometimes strip it) are
 * grouped by what makes slices stackable: frame of reference, orientation and matrix size.
 */
import { RtLiverError } from '../errors';
import type { DicomInstance, SkippedFile } from './instance';
import { sameOrientation } from './slice-geometry';

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const ENHANCED_CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2.1';
export const LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2.2';
const CT_SOP_CLASSES = new Set([CT_IMAGE_STORAGE, ENHANCED_CT_IMAGE_STORAGE, LEGACY_CONVERTED_ENHANCED_CT_IMAGE_STORAGE]);

export interface DicomSeries {
  /** SeriesInstanceUID, or a `no-series-uid:` key built from frame of reference, orientation and size. */
  key: string;
  seriesInstanceUID?: string;
  studyInstanceUID?: string;
  frameOfReferenceUID?: string;
  modality: string;
  description?: string;
  seriesNumber?: number;
  instances: DicomInstance[];
  /** Files of this series that could not be read (see parseDicomInstances); buildVolume refuses them. */
  damagedFiles: SkippedFile[];
  /** Notes about the choice (e.g. a one-image localizer series that was left aside). */
  notes: string[];
}

export interface SelectSeriesOptions {
  /** Choose this series when several CT series are present (the CLI's --series). */
  seriesInstanceUID?: string;
  /** Skipped files from parseDicomInstances, so a damaged slice is not silently missing. */
  skipped?: readonly SkippedFile[];
}

export function isCtInstance(instance: DicomInstance): boolean {
  return CT_SOP_CLASSES.has(instance.sopClassUID) || (instance.modality === 'CT' && instance.pixelData !== undefined && instance.imagePositionPatient !== undefined);
}

export function seriesKeyOf(instance: DicomInstance): string {
  if (instance.seriesInstanceUID) return instance.seriesInstanceUID;
  const orientation = instance.imageOrientationPatient?.map((value) => Number(value).toFixed(3)).join('\\') ?? 'no-orientation';
  return `no-series-uid:${instance.frameOfReferenceUID ?? 'no-frame-of-reference'}|${orientation}|${instance.rows}x${instance.columns}`;
}

export function groupSeries(instances: readonly DicomInstance[], skipped: readonly SkippedFile[] = []): DicomSeries[] {
  const byKey = new Map<string, DicomSeries>();
  for (const instance of instances) {
    const key = seriesKeyOf(instance);
    let series = byKey.get(key);
    if (!series) {
      series = {
        key,
        modality: instance.modality,
        instances: [],
        damagedFiles: [],
        notes: [],
        ...(instance.seriesInstanceUID ? { seriesInstanceUID: instance.seriesInstanceUID } : {}),
        ...(instance.studyInstanceUID ? { studyInstanceUID: instance.studyInstanceUID } : {}),
        ...(instance.frameOfReferenceUID ? { frameOfReferenceUID: instance.frameOfReferenceUID } : {}),
        ...(instance.seriesDescription ? { description: instance.seriesDescription } : {}),
        ...(instance.seriesNumber !== undefined ? { seriesNumber: instance.seriesNumber } : {}),
      };
      byKey.set(key, series);
    }
    series.instances.push(instance);
  }
  for (const file of skipped) {
    if (file.seriesInstanceUID) byKey.get(file.seriesInstanceUID)?.damagedFiles.push(file);
  }
  return [...byKey.values()];
}

function sliceCount(series: DicomSeries): number {
  return series.instances.reduce((sum, instance) => sum + Math.max(1, instance.numberOfFrames), 0);
}

export function describeSeries(series: DicomSeries): string {
  const uid = series.seriesInstanceUID ?? `(no SeriesInstanceUID; ${series.key})`;
  const description = series.description ? ` "${series.description}"` : '';
  const number = series.seriesNumber !== undefined ? ` #${series.seriesNumber}` : '';
  const file = series.instances.length === 1 ? ` (file ${series.instances[0].fileName})` : '';
  return `${series.modality || '?'}${number}${description}: ${sliceCount(series)} slice(s), ${uid}${file}`;
}

export function selectCtSeries(instances: readonly DicomInstance[], options: SelectSeriesOptions = {}): DicomSeries {
  if (instances.length === 0) {
    throw new RtLiverError(
      'DICOM_NO_INSTANCES',
      'No DICOM instances were given.',
      'Point rt-liver at a folder that contains the CT series (files are found recursively).',
    );
  }
  const allSeries = groupSeries(instances, options.skipped);
  const ctSeries = allSeries.filter((series) => series.instances.some(isCtInstance));

  if (options.seriesInstanceUID) {
    const chosen = allSeries.find((series) => series.seriesInstanceUID === options.seriesInstanceUID || series.key === options.seriesInstanceUID);
    if (!chosen) {
      throw new RtLiverError(
        'DICOM_SERIES_NOT_FOUND',
        `Series ${options.seriesInstanceUID} is not in the input. Found: ${allSeries.map(describeSeries).join('; ')}.`,
        'Pass one of the listed SeriesInstanceUIDs with --series.',
      );
    }
    if (!ctSeries.includes(chosen)) {
      throw new RtLiverError(
        'DICOM_NOT_CT',
        `Series ${options.seriesInstanceUID} is not a CT image series (${describeSeries(chosen)}).`,
        'rt-liver segments CT only; pass a CT series with --series.',
      );
    }
    return checkSliceCount(chosen);
  }

  if (ctSeries.length === 0) {
    throw new RtLiverError(
      'DICOM_NO_CT_SERIES',
      `No CT image series in the input. Found: ${allSeries.map(describeSeries).join('; ')}.`,
      'rt-liver segments CT only (not MR, SEG or RT objects); point it at the CT series of the study.',
    );
  }
  if (ctSeries.length === 1) return checkSliceCount(ctSeries[0]);

  // A one-image CT series next to a real stack, marked LOCALIZER or in another plane, is a scout:
  // leave it aside, with a note. Any other lone image (a slice that lost its series UID, say) is not
  // guessed away: the choice goes back to the user.
  const stacks = ctSeries.filter((series) => sliceCount(series) > 1);
  const others = ctSeries.filter((series) => !stacks.includes(series));
  if (stacks.length === 1 && others.every((series) => isLocalizerOf(series, stacks[0]))) {
    const chosen = stacks[0];
    const leftAside = others;
    chosen.notes.push(`Left aside ${leftAside.length} single-image CT series (localizer?): ${leftAside.map(describeSeries).join('; ')}.`);
    return chosen;
  }
  throw new RtLiverError(
    'DICOM_SEVERAL_CT_SERIES',
    `The input holds ${ctSeries.length} CT series: ${ctSeries.map(describeSeries).join('; ')}.`,
    'Choose one with --series <SeriesInstanceUID>.',
  );
}

function isLocalizerOf(single: DicomSeries, stack: DicomSeries): boolean {
  const image = single.instances[0];
  if (image.imageType?.includes('LOCALIZER')) return true;
  const imageOrientation = image.imageOrientationPatient?.map(Number);
  const stackOrientation = stack.instances[0].imageOrientationPatient?.map(Number);
  return imageOrientation !== undefined && stackOrientation !== undefined && !sameOrientation(imageOrientation, stackOrientation);
}

function checkSliceCount(series: DicomSeries): DicomSeries {
  if (sliceCount(series) < 2) {
    throw new RtLiverError(
      'DICOM_SINGLE_SLICE',
      `The CT series has a single slice (${describeSeries(series)}); a 3-D volume needs at least two.`,
      'Choose a CT series with the whole abdomen (tens to hundreds of slices).',
    );
  }
  return series;
}
