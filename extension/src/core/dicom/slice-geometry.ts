/**
 * Slice geometry of a CT series, in one place for every reader and writer: the image plane model
 * (`ImagePlane`), orientation, order along the unit slice normal, spacing checks and the voxel grid the
 * planes form. The volume builder (build-volume.ts), the SEG writer (seg/write-seg.ts) and the SEG
 * reader's source grid (seg/source-grid.ts) all use these functions, so a series is sorted and
 * checked the same way whichever path reads it. Pure functions on numbers, so each rule is tested on
 * its own.
 *
 * Rules (also in docs/geometry.md):
 * - Slices are ordered by the projection of ImagePositionPatient on the normal row x column, never by
 *   file name or InstanceNumber.
 * - Two slices closer than DUPLICATE_MM along the normal are duplicates: an error.
 * - A gap larger than 1.5x the median gap is a missing slice: an error.
 * - Every slice must lie within `gridToleranceMm(spacing)` of the regular grid origin + k * step: otherwise
 *   the spacing is non-uniform (or the in-plane offsets irregular) and reading stops with an error. The
 *   volume is never silently resampled.
 * - When the slice step is not along the normal (gantry tilt, sheared stacks), the grid is kept exactly
 *   as acquired: direction[2] is the real step direction (not orthogonal to the rows and columns) and
 *   spacing[2] its length, so indexToWorld gives each voxel's true position. A warning states the angle.
 */
import { RtLiverError } from '../errors';
import type { Vec3, VolumeGeometry } from '../volume';

/** ImageOrientationPatient: row direction (along increasing column index), then column direction. */
export type ImageOrientation = [number, number, number, number, number, number];

/**
 * One CT image plane, as its header gives it: a single-frame image, or one frame of an Enhanced
 * (multi-frame) image. The one model of a source image's geometry; `SourceImage` (source-image.ts),
 * which the volume builder and the SEG writer and reader share, extends it.
 */
export interface ImagePlane {
  rows: number;
  columns: number;
  /** ImagePositionPatient: LPS centre of the first pixel (row 0, column 0), mm. */
  position: Vec3;
  orientation: ImageOrientation;
  /** PixelSpacing: [between rows, between columns] in mm. */
  pixelSpacing: [number, number];
}

export const DUPLICATE_MM = 0.01;
/** Two orientations are the same when every direction cosine differs by at most this. */
export const ORIENTATION_TOLERANCE = 1e-3;
/** In-plane drift over the whole stack below which the stack is treated as orthogonal (rounding of IPP). */
export const SHEAR_DRIFT_MM = 0.05;

/** Largest distance (mm) a slice may lie from its place on the regular grid. */
export function gridToleranceMm(sliceSpacing: number): number {
  return Math.max(0.05, 0.02 * sliceSpacing);
}

export interface OrientationFrame {
  row: Vec3;
  column: Vec3;
  normal: Vec3;
}

/** Unit row and column directions (as stored, normalized) and their cross product. */
export function orientationFrame(iop: readonly number[]): OrientationFrame {
  const row = normalize([iop[0], iop[1], iop[2]]);
  const column = normalize([iop[3], iop[4], iop[5]]);
  const normal = normalize(cross(row, column));
  return { row, column, normal };
}

export function sameOrientation(a: readonly number[], b: readonly number[]): boolean {
  for (let index = 0; index < 6; index++) {
    if (Math.abs(a[index] - b[index]) > ORIENTATION_TOLERANCE) return false;
  }
  return true;
}

export interface SlicePlacement {
  /** Input indices in k order (ascending along the normal). */
  order: number[];
  /** LPS position of slice 0's first voxel. */
  origin: Vec3;
  /** Unit vector of the k axis: the normal, or the real slice step direction for sheared stacks. */
  kDirection: Vec3;
  /** Distance between consecutive slices along kDirection (mm). */
  kSpacing: number;
  /** Angle (degrees) between the slice step and the normal; 0 when orthogonal. */
  shearDegrees: number;
  warnings: string[];
}

export interface SliceLabel {
  position: Vec3;
  /** Used in messages only (file name, frame number). */
  label: string;
}

export function placeSlices(slices: readonly SliceLabel[], normal: Vec3): SlicePlacement {
  if (slices.length < 2) {
    throw new RtLiverError(
      'DICOM_SINGLE_SLICE',
      'The series has a single slice; a 3-D volume needs at least two.',
      'Choose a CT series with the whole abdomen (tens to hundreds of slices).',
    );
  }
  const distances = slices.map((s) => dot(s.position, normal));
  const order = distances.map((_, index) => index).sort((a, b) => distances[a] - distances[b]);
  const sorted = order.map((index) => ({ ...slices[index], distance: distances[index] }));

  const gaps: number[] = [];
  for (let k = 1; k < sorted.length; k++) {
    const gap = sorted[k].distance - sorted[k - 1].distance;
    if (gap < DUPLICATE_MM) {
      throw new RtLiverError(
        'DICOM_DUPLICATE_POSITION',
        `Two slices lie at the same position (${formatMm(sorted[k].distance)} mm along the slice normal): ` +
          `${sorted[k - 1].label} and ${sorted[k].label}.`,
        'The folder probably holds the same slice twice or two reconstructions of one series; keep one copy of each slice.',
      );
    }
    gaps.push(gap);
  }
  const medianGap = median(gaps);
  for (let k = 1; k < sorted.length; k++) {
    if (gaps[k - 1] > 1.5 * medianGap) {
      throw new RtLiverError(
        'DICOM_MISSING_SLICE',
        `A slice is missing between ${sorted[k - 1].label} and ${sorted[k].label}: they are ` +
          `${formatMm(gaps[k - 1])} mm apart, while the usual spacing is ${formatMm(medianGap)} mm.`,
        'Re-export or re-send the complete series; rt-liver does not fill gaps.',
      );
    }
  }

  const n = sorted.length;
  const first = sorted[0].position;
  const last = sorted[n - 1].position;
  const meanStep = scale(subtract(last, first), 1 / (n - 1));
  const alongNormal = dot(meanStep, normal);
  const inPlane = subtract(meanStep, scale(normal, alongNormal));
  const drift = length(inPlane) * (n - 1);
  const sheared = drift > SHEAR_DRIFT_MM;
  const step = sheared ? meanStep : scale(normal, alongNormal);
  const kSpacing = length(step);
  const kDirection = scale(step, 1 / kSpacing);
  const shearDegrees = sheared ? (Math.atan2(length(inPlane), alongNormal) * 180) / Math.PI : 0;

  const tolerance = gridToleranceMm(alongNormal);
  let worst = { k: 0, along: 0, across: 0 };
  for (let k = 0; k < n; k++) {
    const expected = add(first, scale(step, k));
    const offset = subtract(sorted[k].position, expected);
    const along = dot(offset, normal);
    const across = length(subtract(offset, scale(normal, along)));
    if (Math.hypot(along, across) > Math.hypot(worst.along, worst.across)) worst = { k, along, across };
  }
  if (Math.hypot(worst.along, worst.across) > tolerance) {
    const label = sorted[worst.k].label;
    if (Math.abs(worst.along) >= worst.across) {
      throw new RtLiverError(
        'DICOM_NONUNIFORM_SPACING',
        `Slice spacing is not uniform: gaps range from ${formatMm(Math.min(...gaps))} to ${formatMm(Math.max(...gaps))} mm, ` +
          `and ${label} lies ${formatMm(Math.abs(worst.along))} mm off a regular ${formatMm(alongNormal)} mm grid ` +
          `(tolerance ${formatMm(tolerance)} mm). rt-liver does not resample such series.`,
        'Export the series with a single slice spacing, or resample it to uniform spacing (e.g. to NIfTI) first.',
      );
    }
    throw new RtLiverError(
      'DICOM_IRREGULAR_GRID',
      `The slices do not form a regular grid: ${label} is shifted ${formatMm(worst.across)} mm within its plane ` +
        `from where a constant slice step puts it (tolerance ${formatMm(tolerance)} mm).`,
      'The series mixes table positions or reconstructions; export a single, regularly spaced series.',
    );
  }

  const warnings: string[] = [];
  if (sheared) {
    warnings.push(
      `The slice stack is sheared by ${shearDegrees.toFixed(2)} degrees (gantry tilt or sheared acquisition); ` +
        'the volume keeps the acquired geometry exactly (its k axis is not perpendicular to the slices).',
    );
  }
  return {
    order,
    origin: [first[0], first[1], first[2]],
    kDirection,
    kSpacing,
    shearDegrees,
    warnings,
  };
}

/** Where a plane lies along its own unit slice normal (mm): the key slices are ordered by. */
export function distanceAlongNormal(plane: Pick<ImagePlane, 'position' | 'orientation'>): number {
  return dot(plane.position, orientationFrame(plane.orientation).normal);
}

export interface PlaneGrid {
  /** The voxel grid: i along the rows, j down the columns, k along the slice step. */
  geometry: VolumeGeometry;
  /** Input indices in k order (ascending along the normal). */
  order: number[];
  warnings: string[];
}

/**
 * The voxel grid a stack of parallel planes forms, with every rule of `placeSlices` (duplicates,
 * gaps, uniform spacing, shear kept as acquired). The planes must share orientation, matrix and pixel
 * spacing; callers check that first, with messages in their own terms.
 */
export function gridOfPlanes(planes: readonly (ImagePlane & { label: string })[]): PlaneGrid {
  const first = planes[0];
  const frame = orientationFrame(first.orientation);
  const placement = placeSlices(planes, frame.normal);
  const [rowSpacing, columnSpacing] = first.pixelSpacing;
  return {
    geometry: {
      dimensions: [first.columns, first.rows, planes.length],
      // PixelSpacing is [between rows, between columns]; i runs along a row, so it steps by the column spacing.
      spacing: [columnSpacing, rowSpacing, placement.kSpacing],
      origin: placement.origin,
      direction: [frame.row, frame.column, placement.kDirection],
    },
    order: placement.order,
    warnings: placement.warnings,
  };
}

function formatMm(value: number): string {
  return Number(value.toFixed(3)).toString();
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function dot(a: readonly number[], b: readonly number[]): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function cross(a: readonly number[], b: readonly number[]): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function add(a: Vec3, b: Vec3): Vec3 {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
}

function subtract(a: readonly number[], b: readonly number[]): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

function scale(a: readonly number[], factor: number): Vec3 {
  return [a[0] * factor, a[1] * factor, a[2] * factor];
}

function length(a: readonly number[]): number {
  return Math.hypot(a[0], a[1], a[2]);
}

export function normalize(a: readonly number[]): Vec3 {
  const norm = length(a);
  if (!(norm > 0)) {
    throw new RtLiverError(
      'DICOM_BAD_ORIENTATION',
      'ImageOrientationPatient has a zero-length direction.',
      'The files are damaged or not a cross-sectional image; re-export the series.',
    );
  }
  return [a[0] / norm, a[1] / norm, a[2] / norm];
}
