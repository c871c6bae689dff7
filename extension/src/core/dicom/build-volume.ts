/**
 * A selected CT series to a Volume of Hounsfield units on the exact acquired grid.
 *
 * HU are stored as Int16Array: stored value x RescaleSlope + RescaleIntercept, rounded to the nearest
 * integer (1 HU is far below CT noise) and clamped to [-32768, 32767] with a warning that counts the
 * clamped voxels (only extended-range metal reconstructions get there).
 */
import { RtLiverError } from '../errors';
import type { Vec3, Volume } from '../volume';
import type { DicomInstance, PatientStudyAttributes } from './instance';
import { decodeFrameSamples, type SampleArray } from './pixel-data';
import type { DicomSeries } from './select-series';
import { orientationFrame, placeSlices, sameOrientation } from './slice-geometry';

export interface DicomSliceReference {
  sopInstanceUID: string;
  sopClassUID: string;
  imagePositionPatient: Vec3;
  fileName: string;
}

export interface DicomSeriesInfo {
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  frameOfReferenceUID?: string;
  modality: string;
  description?: string;
  seriesNumber?: number;
  /** Patient and general study attributes of the first slice, for derived objects (SEG). */
  patientStudy: PatientStudyAttributes;
}

export interface DicomSeriesVolume {
  volume: Volume<Int16Array>;
  /** One entry per k index, in k order. */
  slices: DicomSliceReference[];
  series: DicomSeriesInfo;
  warnings: string[];
}

export interface BuildVolumeOptions {
  /** Called after each decoded slice, for progress displays. */
  onSlice?: (done: number, total: number) => void;
}

/** Every instance of the series with the geometry a slice needs. */
function checkSliceInstances(series: DicomSeries): DicomInstance[] {
  if (series.damagedFiles.length > 0) {
    const names = series.damagedFiles.map((file) => `${file.name} (${file.reason})`).join('; ');
    throw new RtLiverError(
      'DICOM_DAMAGED_FILE',
      `The CT series cannot be complete: ${series.damagedFiles.length} of its files are damaged: ${names}.`,
      'Re-export or re-send the series; rt-liver does not guess missing slices.',
    );
  }
  const multiFrame = series.instances.find((instance) => instance.numberOfFrames > 1);
  if (multiFrame) {
    throw new RtLiverError(
      'DICOM_UNSUPPORTED_MULTIFRAME',
      `${multiFrame.fileName} is a multi-frame (Enhanced) CT image with ${multiFrame.numberOfFrames} frames; rt-liver reads single-frame CT series.`,
      'Export the series as classic single-frame CT images (one file per slice).',
    );
  }
  const images = series.instances.filter((instance) => instance.pixelData);
  for (const instance of images) {
    if (!instance.imagePositionPatient || !instance.imageOrientationPatient || !instance.pixelSpacing) {
      const missing = [
        !instance.imagePositionPatient && 'ImagePositionPatient',
        !instance.imageOrientationPatient && 'ImageOrientationPatient',
        !instance.pixelSpacing && 'PixelSpacing',
      ].filter(Boolean);
      throw new RtLiverError(
        'DICOM_MISSING_GEOMETRY',
        `${instance.fileName} lacks ${missing.join(', ')}, so its place in the patient is unknown.`,
        'Use the original CT series (anonymizers and screen captures may drop geometry).',
      );
    }
  }
  const first = images[0];
  const groups = (describe: (instance: DicomInstance) => string) => {
    const counts = new Map<string, number>();
    for (const instance of images) counts.set(describe(instance), (counts.get(describe(instance)) ?? 0) + 1);
    return [...counts].map(([value, count]) => `${count} x ${value}`).join(', ');
  };
  if (images.some((instance) => instance.rows !== first.rows || instance.columns !== first.columns)) {
    throw new RtLiverError(
      'DICOM_MIXED_SIZES',
      `The slices of the series differ in matrix size (rows x columns): ${groups((i) => `${i.rows}x${i.columns}`)}.`,
      'The folder mixes images of different reconstructions; choose a single series.',
    );
  }
  if (images.some((instance) => !sameOrientation(instance.imageOrientationPatient!, first.imageOrientationPatient!))) {
    throw new RtLiverError(
      'DICOM_MIXED_ORIENTATION',
      `The slices of the series differ in orientation (ImageOrientationPatient): ${groups((i) => `[${i.imageOrientationPatient!.join(', ')}]`)}.`,
      'The series mixes planes (e.g. a localizer with axial slices); export only the axial stack.',
    );
  }
  const [rowSpacing, columnSpacing] = first.pixelSpacing!;
  if (images.some((instance) => Math.abs(instance.pixelSpacing![0] - rowSpacing) > 1e-4 || Math.abs(instance.pixelSpacing![1] - columnSpacing) > 1e-4)) {
    throw new RtLiverError(
      'DICOM_MIXED_PIXEL_SPACING',
      `The slices of the series differ in pixel spacing: ${groups((i) => `${i.pixelSpacing!.join('\\')} mm`)}.`,
      'The folder mixes reconstructions with different fields of view; choose a single series.',
    );
  }
  if (new Set(images.map((instance) => instance.frameOfReferenceUID ?? '')).size > 1) {
    throw new RtLiverError(
      'DICOM_MIXED_FRAME_OF_REFERENCE',
      `The slices of the series belong to different frames of reference: ${groups((i) => i.frameOfReferenceUID ?? 'none')}.`,
      'Positions in different frames of reference cannot be stacked; choose a single acquisition.',
    );
  }
  return images;
}

export async function buildVolume(series: DicomSeries, options: BuildVolumeOptions = {}): Promise<DicomSeriesVolume> {
  const images = checkSliceInstances(series);
  const first = images[0];
  const frame = orientationFrame(first.imageOrientationPatient!);
  const placement = placeSlices(
    images.map((instance) => ({ position: instance.imagePositionPatient!, label: instance.fileName })),
    frame.normal,
  );
  const ordered = placement.order.map((index) => images[index]);

  const nx = first.columns;
  const ny = first.rows;
  const nz = ordered.length;
  const sliceSize = nx * ny;
  const voxels = new Int16Array(sliceSize * nz);
  let clamped = 0;
  for (let k = 0; k < nz; k++) {
    const instance = ordered[k];
    const samples = await decodeFrameSamples(instance, 0);
    clamped += writeHounsfieldSlice(samples, instance, voxels, k * sliceSize);
    options.onSlice?.(k + 1, nz);
  }

  const warnings = [...series.notes, ...placement.warnings];
  if (clamped > 0) {
    warnings.push(`${clamped} voxels exceeded the int16 range of HU values and were clamped to [-32768, 32767].`);
  }
  const [rowSpacing, columnSpacing] = first.pixelSpacing!;
  const volume: Volume<Int16Array> = {
    voxels,
    dimensions: [nx, ny, nz],
    // PixelSpacing is [between rows, between columns]; i runs along a row, so it steps by the column spacing.
    spacing: [columnSpacing, rowSpacing, placement.kSpacing],
    origin: placement.origin,
    direction: [frame.row, frame.column, placement.kDirection],
  };
  return {
    volume,
    slices: ordered.map((instance) => ({
      sopInstanceUID: instance.sopInstanceUID,
      sopClassUID: instance.sopClassUID,
      imagePositionPatient: instance.imagePositionPatient!,
      fileName: instance.fileName,
    })),
    series: {
      modality: first.modality || 'CT',
      patientStudy: first.patientStudy,
      ...(series.studyInstanceUID ? { studyInstanceUID: series.studyInstanceUID } : {}),
      ...(series.seriesInstanceUID ? { seriesInstanceUID: series.seriesInstanceUID } : {}),
      ...(series.frameOfReferenceUID ? { frameOfReferenceUID: series.frameOfReferenceUID } : {}),
      ...(series.description ? { description: series.description } : {}),
      ...(series.seriesNumber !== undefined ? { seriesNumber: series.seriesNumber } : {}),
    },
    warnings,
  };
}

/**
 * Stored values to HU into `target` at `offset`; returns how many voxels were clamped. Samples with
 * BitsStored < BitsAllocated are masked (unsigned) or sign-extended (signed) from BitsStored first, so
 * stray bits above the stored range (old overlay planes) do not leak into HU.
 */
export function writeHounsfieldSlice(samples: SampleArray, instance: DicomInstance, target: Int16Array, offset: number): number {
  const slope = instance.rescaleSlope;
  const intercept = instance.rescaleIntercept;
  const bitsStored = instance.bitsStored;
  const narrowed = bitsStored > 0 && bitsStored < instance.bitsAllocated;
  const mask = narrowed ? 2 ** bitsStored - 1 : 0;
  const signBit = narrowed ? 2 ** (bitsStored - 1) : 0;
  const signed = instance.pixelRepresentation === 1;
  let clamped = 0;
  if (!narrowed && slope === 1 && Number.isInteger(intercept)) {
    // The common case (integer intercept, unit slope): integer adds, no rounding.
    if (intercept === 0 && samples instanceof Int16Array) {
      target.set(samples, offset);
      return 0;
    }
    const slice = target.subarray(offset, offset + samples.length);
    for (let index = 0; index < samples.length; index++) {
      const hu = samples[index] + intercept;
      if (hu > 32767 || hu < -32768) {
        slice[index] = hu > 32767 ? 32767 : -32768;
        clamped++;
      } else {
        slice[index] = hu;
      }
    }
    return clamped;
  }
  for (let index = 0; index < samples.length; index++) {
    let stored = samples[index];
    if (narrowed) {
      stored = stored & mask;
      if (signed && stored >= signBit) stored -= mask + 1;
    }
    let hu = Math.round(stored * slope + intercept);
    if (hu > 32767) {
      hu = 32767;
      clamped++;
    } else if (hu < -32768) {
      hu = -32768;
      clamped++;
    }
    target[offset + index] = hu;
  }
  return clamped;
}
