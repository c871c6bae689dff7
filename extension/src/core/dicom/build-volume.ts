/**
 * A selected CT series to a Volume of Hounsfield units (Int16Array, see hounsfield.ts) on the exact
 * acquired grid (see slice-geometry.ts and docs/geometry.md).
 */
import { RtLiverError } from '../errors';
import { DEFAULT_INPUT_LIMITS, allocateVoxels, checkLimit, type InputLimits } from '../limits';
import type { Vec3, Volume } from '../volume';
import type { DicomInstance, PatientStudyAttributes } from './instance';
import { writeHounsfieldSlice } from './hounsfield';
import { decodeFrameSamples } from './pixel-data';
import { isCtInstance, type DicomSeries } from './select-series';
import { gridOfPlanes, sameOrientation } from './slice-geometry';
import { sourceImagesOf, type SourceImage } from './source-image';

export interface DicomSliceReference {
  sopInstanceUID: string;
  sopClassUID: string;
  imagePositionPatient: Vec3;
  fileName: string;
  /** 1-based frame of a multi-frame (Enhanced) source image; absent for single-frame images. */
  frameNumber?: number;
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
  /** Slices and voxels allowed; DEFAULT_INPUT_LIMITS when absent. */
  limits?: InputLimits;
}

/**
 * One slice of the volume: a source image (a classic single-frame image, or one frame of an
 * Enhanced multi-frame image) with the instance its pixels are decoded from and its own rescale.
 */
interface SliceSource extends SourceImage {
  instance: DicomInstance;
  frameIndex: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** File name, plus the frame number for multi-frame images: used in messages. */
  label: string;
}

function sliceSources(images: readonly DicomInstance[]): SliceSource[] {
  const sources: SliceSource[] = [];
  for (const instance of images) {
    const labelOf = (frameNumber: number | undefined) =>
      instance.numberOfFrames > 1 && frameNumber !== undefined ? `${instance.fileName} frame ${frameNumber}` : instance.fileName;
    const missingGeometry = (frameNumber: number | undefined, missing: string[]) =>
      new RtLiverError(
        'DICOM_MISSING_GEOMETRY',
        `${labelOf(frameNumber)} lacks ${missing.join(', ')}, so its place in the patient is unknown.`,
        'Use the original CT series (anonymizers and screen captures may drop geometry).',
      );
    for (const image of sourceImagesOf(instance, missingGeometry)) {
      const label = labelOf(image.frameNumber);
      if (!(image.pixelSpacing[0] > 0 && image.pixelSpacing[1] > 0)) {
        throw new RtLiverError(
          'DICOM_BAD_PIXEL_SPACING',
          `${label} has PixelSpacing ${image.pixelSpacing.join('\\')}: a pixel size must be a positive number of mm ` +
            '(a negative one would mirror the image, a zero one has no size).',
          'The file is damaged or was written by faulty software; use the original CT series.',
        );
      }
      const frameIndex = (image.frameNumber ?? 1) - 1;
      const frame = instance.frames?.[frameIndex];
      sources.push({
        ...image,
        instance,
        frameIndex,
        rescaleSlope: frame?.rescaleSlope ?? instance.rescaleSlope,
        rescaleIntercept: frame?.rescaleIntercept ?? instance.rescaleIntercept,
        label,
      });
    }
  }
  return sources;
}

/**
 * The instances that make up the image stack. Left aside, with a note: objects without pixels (dose
 * SRs, presentation states), non-CT images (secondary captures, dose screens) and localizer (scout)
 * images that share the series with the axial stack.
 */
function stackInstances(series: DicomSeries): { stack: DicomInstance[]; notes: string[] } {
  const ctImages = series.instances.filter(isCtInstance);
  const withoutPixels = ctImages.filter((instance) => instance.pixelData === undefined);
  if (withoutPixels.length > 0) {
    throw new RtLiverError(
      'DICOM_DAMAGED_FILE',
      `The CT series cannot be complete: ${withoutPixels.map((instance) => instance.fileName).join(', ')} ` +
        `${withoutPixels.length === 1 ? 'is a CT image' : 'are CT images'} without Pixel Data (cut off before the pixels?).`,
      'Re-export or re-send the series; rt-liver does not guess missing slices.',
    );
  }
  const images = ctImages;
  if (images.length === 0) {
    throw new RtLiverError(
      'DICOM_NO_IMAGES',
      `The chosen series holds no CT images with pixel data (${series.instances.length} instance(s) without pixels or geometry).`,
      'Point rt-liver at the folder of the CT images themselves.',
    );
  }
  const notes: string[] = [];
  const notImages = series.instances.length - images.length;
  if (notImages > 0) notes.push(`Left aside ${notImages} instance(s) of the series that are not CT images (no pixels or no geometry).`);
  const localizers = images.filter((instance) => instance.imageType?.includes('LOCALIZER'));
  if (localizers.length === 0 || localizers.length === images.length) return { stack: images, notes };
  notes.push(`Left aside ${localizers.length} localizer image(s) of the series: ${localizers.map((instance) => instance.fileName).join(', ')}.`);
  return { stack: images.filter((instance) => !localizers.includes(instance)), notes };
}

/** Every slice of the series, with the checks that make them one stack. */
function checkedSlices(series: DicomSeries): { slices: SliceSource[]; notes: string[] } {
  if (series.damagedFiles.length > 0) {
    const names = series.damagedFiles.map((file) => `${file.name} (${file.reason})`).join('; ');
    throw new RtLiverError(
      'DICOM_DAMAGED_FILE',
      `The CT series cannot be complete: ${series.damagedFiles.length} of its files are damaged: ${names}.`,
      'Re-export or re-send the series; rt-liver does not guess missing slices.',
    );
  }
  const { stack, notes } = stackInstances(series);
  const slices = sliceSources(stack);
  const first = slices[0];
  const groups = (describe: (slice: SliceSource) => string) => {
    const counts = new Map<string, number>();
    for (const slice of slices) counts.set(describe(slice), (counts.get(describe(slice)) ?? 0) + 1);
    return [...counts].map(([value, count]) => `${count} x ${value}`).join(', ');
  };
  const size = (slice: SliceSource) => `${slice.instance.rows}x${slice.instance.columns}`;
  if (slices.some((slice) => size(slice) !== size(first))) {
    throw new RtLiverError(
      'DICOM_MIXED_SIZES',
      `The slices of the series differ in matrix size (rows x columns): ${groups(size)}.`,
      'The folder mixes images of different reconstructions; choose a single series.',
    );
  }
  if (slices.some((slice) => !sameOrientation(slice.orientation, first.orientation))) {
    throw new RtLiverError(
      'DICOM_MIXED_ORIENTATION',
      `The slices of the series differ in orientation (ImageOrientationPatient): ${groups((slice) => `[${slice.orientation.join(', ')}]`)}.`,
      'The series mixes planes (e.g. a localizer with axial slices); export only the axial stack.',
    );
  }
  const [rowSpacing, columnSpacing] = first.pixelSpacing;
  if (slices.some((slice) => Math.abs(slice.pixelSpacing[0] - rowSpacing) > 1e-4 || Math.abs(slice.pixelSpacing[1] - columnSpacing) > 1e-4)) {
    throw new RtLiverError(
      'DICOM_MIXED_PIXEL_SPACING',
      `The slices of the series differ in pixel spacing: ${groups((slice) => `${slice.pixelSpacing.join('\\')} mm`)}.`,
      'The folder mixes reconstructions with different fields of view; choose a single series.',
    );
  }
  if (new Set(slices.map((slice) => slice.instance.frameOfReferenceUID ?? '')).size > 1) {
    throw new RtLiverError(
      'DICOM_MIXED_FRAME_OF_REFERENCE',
      `The slices of the series belong to different frames of reference: ${groups((slice) => slice.instance.frameOfReferenceUID ?? 'none')}.`,
      'Positions in different frames of reference cannot be stacked; choose a single acquisition.',
    );
  }
  return { slices, notes };
}

export async function buildVolume(series: DicomSeries, options: BuildVolumeOptions = {}): Promise<DicomSeriesVolume> {
  const { slices, notes } = checkedSlices(series);
  const first = slices[0];
  const grid = gridOfPlanes(slices);
  const ordered = grid.order.map((index) => slices[index]);

  const nx = first.instance.columns;
  const ny = first.instance.rows;
  const nz = ordered.length;
  const sliceSize = nx * ny;
  if (!(nx > 0 && ny > 0)) {
    throw new RtLiverError('DICOM_NO_IMAGES', `${first.label} has ${ny} rows and ${nx} columns: no image.`, 'The file is damaged; re-export the series.');
  }
  const limits = options.limits ?? DEFAULT_INPUT_LIMITS;
  checkLimit(limits, 'maxFrames', nz, `The series has ${nz} slices`);
  checkLimit(limits, 'maxVoxels', sliceSize * nz, `The series is ${nx} x ${ny} x ${nz} voxels`);
  const voxels = allocateVoxels(sliceSize * nz, 2, (count) => new Int16Array(count), `The series (${nx} x ${ny} x ${nz})`);
  let clamped = 0;
  for (let k = 0; k < nz; k++) {
    const slice = ordered[k];
    const samples = await decodeFrameSamples(slice.instance, slice.frameIndex);
    const encoding = { ...slice.instance, rescaleSlope: slice.rescaleSlope, rescaleIntercept: slice.rescaleIntercept };
    clamped += writeHounsfieldSlice(samples, encoding, voxels, k * sliceSize);
    options.onSlice?.(k + 1, nz);
  }

  const warnings = [...series.notes, ...notes, ...grid.warnings];
  if (clamped > 0) {
    warnings.push(`${clamped} voxels exceeded the int16 range of HU values and were clamped to [-32768, 32767].`);
  }
  const volume: Volume<Int16Array> = { voxels, ...grid.geometry };
  return {
    volume,
    slices: ordered.map((slice) => ({
      sopInstanceUID: slice.instance.sopInstanceUID,
      sopClassUID: slice.instance.sopClassUID,
      imagePositionPatient: slice.position,
      fileName: slice.instance.fileName,
      ...(slice.frameNumber !== undefined ? { frameNumber: slice.frameNumber } : {}),
    })),
    series: {
      modality: first.instance.modality || 'CT',
      patientStudy: first.instance.patientStudy,
      ...(series.studyInstanceUID ? { studyInstanceUID: series.studyInstanceUID } : {}),
      ...(series.seriesInstanceUID ? { seriesInstanceUID: series.seriesInstanceUID } : {}),
      ...(series.frameOfReferenceUID ? { frameOfReferenceUID: series.frameOfReferenceUID } : {}),
      ...(series.description ? { description: series.description } : {}),
      ...(series.seriesNumber !== undefined ? { seriesNumber: series.seriesNumber } : {}),
    },
    warnings,
  };
}
