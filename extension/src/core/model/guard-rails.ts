/**
 * Guard rails: checks on the input and on the result that turn a silent wrong answer into a warning a
 * radiologist can act on. The model always gives *a* mask; these say when it cannot be a liver.
 *
 * - Input: non-finite voxels (NaN, +-Inf in float NIfTI files; read as air), a blank CT (one value
 *   everywhere) or a CT without a body (no voxel denser than air): an 11 L "liver" came out of each;
 *   values that are not Hounsfield units (no region as dark as fat or air in a field 150 mm or more
 *   across, as CT numbers stored without their rescale intercept are): a 4.7 L "liver" with
 *   ircadb-17's values + 1024.
 * - Volume: an adult liver is about 1-2.5 L; below 0.5 L or above 4 L the mask is implausible.
 * - Above the diaphragm: mask voxels on lung, or with lung below them in the same column (along the
 *   patient's feet-head axis), or, between the lungs, higher than both lungs' bases nearby, lie in the
 *   chest (see maskAboveDiaphragmMl). Lung is the air inside the body (HU < -500, within the body's
 *   outline on its axial slice) in connected regions that reach the top slice of the CT or hold
 *   300 mL or more, which bowel gas does not. A coarse voxel is air for this only when all eight model
 *   voxels it covers are: the diaphragm between a lung's base and gas in the colon under the liver is
 *   thinner than a coarse voxel, and in their mean it reads as air, joining the gas to the lung. Liver
 *   lies under the diaphragm's dome, so in any column lung is above it, never below. Limits of the
 *   heuristic: the part of the heart below the lungs' bases beside it is not seen, and a CT without lung
 *   bases in its field of view gives no warning.
 *
 * All of it runs on the model grid (64 x 128 x 128 voxels in canonical LPS order) or half of it, a
 * few milliseconds, from the resampled HU values before windowing; the CT's full-size voxels are read
 * only to count non-finite values of float inputs.
 */
import type { Vec3, Volume, VoxelArray } from '../volume';
import { canonicalView, type Reorientation } from './orientation';

export const LIVER_VOLUME_PLAUSIBLE_ML: readonly [number, number] = [500, 4000];
/** Mask volume over lung, in mL, from which the result is flagged as reaching into the chest. */
export const ABOVE_DIAPHRAGM_MIN_ML = 15;

const AIR_HU = -500;
const DIAPHRAGM_MARGIN_MM = 8;
const BODY_HU = -300;
const LUNG_MIN_ML_OFF_TOP = 300;
/** Fraction of model voxels denser than air below which the CT shows no body. */
const MIN_BODY_FRACTION = 0.005;
/**
 * Darkest block mean (2 x 2 x 2 model voxels, about 6 x 6 x 8 mm) that a CT in Hounsfield units always
 * goes below: air around the body and in the lungs and bowel is about -1000 HU, fat about -100 HU, and
 * every abdomen holds regions of either larger than a block. CT numbers stored without their rescale
 * intercept (air at 0) or values scaled to 0-1 stay above it.
 */
const DARKEST_HU_AT_MOST = -50;
/**
 * In-plane extent (both axes) from which a field must hold some of that: a smaller crop may lie inside one
 * organ (dcmqi's 16 x 27 mm test series, 0 HU and up). An abdominal CT's field is 250 mm or more.
 */
const HU_CHECK_MIN_FIELD_MM = 150;

/** What the guard rails keep of the input, on the model grid (i = L, j = P, k = S; i fastest). */
export interface InputSummary {
  dims: Vec3;
  /** Size of a model-grid voxel in mm (the CT's extent divided by the grid). */
  voxelMm: Vec3;
  min: number;
  max: number;
  /** Fraction of model voxels denser than air (HU >= -500). */
  bodyFraction: number;
  /** 1 where the model voxel is lung. */
  lung: Uint8Array;
  lungMl: number;
}

/** Non-finite voxels of a float volume (integer volumes have none). */
export function countNonFinite(voxels: VoxelArray): number {
  if (!(voxels instanceof Float32Array)) return 0;
  let count = 0;
  for (let n = 0; n < voxels.length; n++) {
    const value = voxels[n];
    if (value - value !== 0) count++; // NaN and +-Inf
  }
  return count;
}

/**
 * Summary of the resampled HU values (before windowing); NaN counts as air. Range, body and lungs
 * are taken on a grid of half the model's resolution (2 x 2 x 2 means, about
 * 6 x 6 x 8 mm for an abdomen; for the lungs the blocks' maxima, so that a thin wall between two air
 * spaces keeps them apart): the lungs are large, and eight times fewer voxels keep the checks to
 * a few milliseconds in a fresh process.
 */
export function summarizeInput(hu: Float32Array, dims: Vec3, voxelMm: Vec3): InputSummary {
  const coarse = halfResolution(hu, dims);
  // The range of the block means: equal everywhere exactly when the CT is blank (but for a pattern
  // whose blocks average out exactly, which no scanner writes).
  const { min, max } = rangeOf(coarse.values, coarse.dims[0]);
  const coarseMm = [voxelMm[0] * 2, voxelMm[1] * 2, voxelMm[2] * 2] as Vec3;
  let body = 0;
  for (let row = 0; row < coarse.values.length; row += coarse.dims[0]) body += countAtLeast(coarse.values, row, coarse.dims[0], AIR_HU);
  const voxelMl = (coarseMm[0] * coarseMm[1] * coarseMm[2]) / 1000;
  const lung = findLung(halfResolution(hu, dims, halfRowMax).values, coarse.dims, voxelMl);
  let lungVoxels = 0;
  for (let row = 0; row < lung.length; row += coarse.dims[0]) lungVoxels += countAtLeast(lung, row, coarse.dims[0], 1);
  return { dims: coarse.dims, voxelMm: coarseMm, min, max, bodyFraction: body / coarse.values.length, lung, lungMl: lungVoxels * voxelMl };
}

function rangeOf(values: Float32Array, rowLength: number): { min: number; max: number } {
  const extremes = new Float64Array([Infinity, -Infinity]);
  for (let row = 0; row < values.length; row += rowLength) rangeOfRow(values, row, rowLength, extremes);
  return { min: extremes[0], max: extremes[1] };
}

function rangeOfRow(values: Float32Array, start: number, count: number, extremes: Float64Array): void {
  let min = extremes[0];
  let max = extremes[1];
  for (let n = start; n < start + count; n++) {
    const value = values[n];
    if (value < min) min = value; // NaN compares false: left out
    if (value > max) max = value;
  }
  extremes[0] = min;
  extremes[1] = max;
}

/** How many of values[start .. start + count) are at least `threshold` (NaN is not). */
function countAtLeast(values: ArrayLike<number>, start: number, count: number, threshold: number): number {
  let found = 0;
  for (let n = start; n < start + count; n++) if (values[n] >= threshold) found++;
  return found;
}

type HalfRow = (values: Float32Array, out: Float32Array, source: number, target: number, count: number, dx: number, dy: number, dz: number) => void;

/**
 * Means (or, with halfRowMax, maxima) of 2 x 2 x 2 blocks (an odd last index is dropped; the model grid's
 * sizes are even). A block with a NaN is NaN.
 */
function halfResolution(values: Float32Array, [nx, ny, nz]: Vec3, halfRow: HalfRow = halfRowMean): { values: Float32Array; dims: Vec3 } {
  const dims: Vec3 = [Math.max(1, nx >> 1), Math.max(1, ny >> 1), Math.max(1, nz >> 1)];
  const [cx, cy, cz] = dims;
  const out = new Float32Array(cx * cy * cz);
  const dx = nx > 1 ? 1 : 0;
  const dy = ny > 1 ? nx : 0;
  const dz = nz > 1 ? nx * ny : 0;
  for (let k = 0; k < cz; k++) {
    for (let j = 0; j < cy; j++) halfRow(values, out, (2 * k * ny + 2 * j) * nx, (k * cy + j) * cx, cx, dx, dy, dz);
  }
  return { values: out, dims };
}

/** One output row of halfResolution (small, so that V8 optimizes it early in a fresh process). */
function halfRowMean(values: Float32Array, out: Float32Array, source: number, target: number, count: number, dx: number, dy: number, dz: number): void {
  for (let i = 0; i < count; i++) {
    const p = source + 2 * i * dx;
    out[target + i] = (values[p] + values[p + dx] + values[p + dy] + values[p + dy + dx] + values[p + dz] + values[p + dz + dx] + values[p + dz + dy] + values[p + dz + dy + dx]) / 8;
  }
}

/** halfRowMean with the blocks' maxima. */
function halfRowMax(values: Float32Array, out: Float32Array, source: number, target: number, count: number, dx: number, dy: number, dz: number): void {
  for (let i = 0; i < count; i++) {
    const p = source + 2 * i * dx;
    out[target + i] = Math.max(values[p], values[p + dx], values[p + dy], values[p + dy + dx], values[p + dz], values[p + dz + dx], values[p + dz + dy], values[p + dz + dy + dx]);
  }
}

/** Air inside the body's outline (per axial slice: between the first and last body voxel of its row and of its column). */
function enclosedAir(hu: Float32Array, [nx, ny, nz]: Vec3): Uint8Array {
  const air = new Uint8Array(hu.length);
  const columnFirst = new Int32Array(nx);
  const columnLast = new Int32Array(nx);
  for (let k = 0; k < nz; k++) enclosedAirOfSlice(hu, air, k * nx * ny, nx, ny, columnFirst, columnLast);
  return air;
}

function enclosedAirOfSlice(hu: Float32Array, air: Uint8Array, slice: number, nx: number, ny: number, columnFirst: Int32Array, columnLast: Int32Array): void {
  columnFirst.fill(ny);
  columnLast.fill(-1);
  for (let j = 0; j < ny; j++) noteBodyColumns(hu, slice + j * nx, j, nx, columnFirst, columnLast);
  for (let j = 0; j < ny; j++) markEnclosedAirOfRow(hu, air, slice + j * nx, j, nx, columnFirst, columnLast);
}

/** Widens each column's body span [first, last] by this row's body voxels. */
function noteBodyColumns(hu: Float32Array, row: number, j: number, nx: number, columnFirst: Int32Array, columnLast: Int32Array): void {
  for (let i = 0; i < nx; i++) {
    if (hu[row + i] >= BODY_HU) {
      if (j < columnFirst[i]) columnFirst[i] = j;
      columnLast[i] = j;
    }
  }
}

/** Air of one row that lies between body voxels along the row and along its column. */
function markEnclosedAirOfRow(hu: Float32Array, air: Uint8Array, row: number, j: number, nx: number, columnFirst: Int32Array, columnLast: Int32Array): void {
  let first = 0;
  while (first < nx && !(hu[row + first] >= BODY_HU)) first++;
  let last = nx - 1;
  while (last > first && !(hu[row + last] >= BODY_HU)) last--;
  for (let i = first + 1; i < last; i++) {
    if (!(hu[row + i] >= AIR_HU) && j > columnFirst[i] && j < columnLast[i]) air[row + i] = 1;
  }
}

/** Enclosed air in 6-connected regions that reach the top slice or are large: the lungs. */
function findLung(hu: Float32Array, dims: Vec3, voxelMl: number): Uint8Array {
  const [nx, ny, nz] = dims;
  const air = enclosedAir(hu, dims);
  // The air map inside a border of zeros: neighbours need no bounds checks. 1: unvisited air, 2: visited.
  const [px, py] = [nx + 2, ny + 2];
  const padded = new Uint8Array(px * py * (nz + 2));
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) padded.set(air.subarray((k * ny + j) * nx, (k * ny + j + 1) * nx), ((k + 1) * py + j + 1) * px + 1);
  const topSlice = nz * px * py; // padded index of the first voxel of the CT's top slice
  const lung = new Uint8Array(hu.length);
  const stack = new Int32Array(padded.length);
  const region = new Int32Array(padded.length);
  const strides = [1, px, px * py];
  // indexOf scans natively: most of the grid is not air.
  for (let seed = padded.indexOf(1); seed >= 0; seed = padded.indexOf(1, seed + 1)) {
    const size = flood(padded, seed, strides, stack, region);
    let reachesTop = false;
    for (let n = 0; n < size && !reachesTop; n++) reachesTop = region[n] >= topSlice;
    const ml = size * voxelMl;
    if ((reachesTop && ml >= 20) || ml >= LUNG_MIN_ML_OFF_TOP) {
      for (let n = 0; n < size; n++) {
        const p = region[n];
        const i = (p % px) - 1;
        const j = (Math.floor(p / px) % py) - 1;
        const k = Math.floor(p / (px * py)) - 1;
        lung[(k * ny + j) * nx + i] = 1;
      }
    }
  }
  return lung;
}

/** Marks the 6-connected region of `seed` visited; its voxels go to `region`, their count is returned. */
function flood(grid: Uint8Array, seed: number, [sx, sy, sz]: number[], stack: Int32Array, region: Int32Array): number {
  let top = 0;
  let size = 0;
  grid[seed] = 2;
  stack[top++] = seed;
  while (top > 0) {
    const p = stack[--top];
    region[size++] = p;
    if (grid[p - sx] === 1) { grid[p - sx] = 2; stack[top++] = p - sx; }
    if (grid[p + sx] === 1) { grid[p + sx] = 2; stack[top++] = p + sx; }
    if (grid[p - sy] === 1) { grid[p - sy] = 2; stack[top++] = p - sy; }
    if (grid[p + sy] === 1) { grid[p + sy] = 2; stack[top++] = p + sy; }
    if (grid[p - sz] === 1) { grid[p - sz] = 2; stack[top++] = p - sz; }
    if (grid[p + sz] === 1) { grid[p + sz] = 2; stack[top++] = p + sz; }
  }
  return size;
}

/**
 * Mask volume (mL) in the chest, on the model grid (same layout as the summary's lung map):
 *  1. on lung itself, or with about 8 mm of lung below it in its column;
 *  2. in a column without lung (the mediastinum: heart, great vessels), higher than the lung's base
 *     in the nearest lung columns on both its left and its right in the same row, by more than about
 *     8 mm: above both lungs' bases is above the diaphragm. (The heart rests on the diaphragm's
 *     central tendon, lower than the domes; the liver's left lobe under it is lower still.)
 */
export function maskAboveDiaphragmMl(summary: InputSummary, mask: Uint8Array): number {
  const [nx, ny, nz] = summary.dims;
  const sliceSize = nx * ny;
  // About 8 mm along the feet-head axis: lung that thick below a voxel, or a voxel that far above
  // the lungs' bases, is no partial-volume effect.
  const margin = Math.max(1, Math.round(DIAPHRAGM_MARGIN_MM / summary.voxelMm[2]));
  // The lowest lung voxel of each column (the lung's base there), -1 where the column has no lung.
  const lungBase = new Int32Array(sliceSize).fill(-1);
  for (let k = nz - 1; k >= 0; k--) noteLungBase(summary.lung, k * sliceSize, sliceSize, k, lungBase);
  // Rule 2's height per lung-free column: the higher of the nearest lung bases left and right.
  const ceiling = new Int32Array(sliceSize).fill(-1);
  const nearestLeft = new Int32Array(nx);
  for (let j = 0; j < ny; j++) rowCeiling(lungBase, ceiling, j * nx, nx, margin, nearestLeft);
  let flagged = 0;
  for (let column = 0; column < sliceSize; column++) flagged += flaggedInColumn(summary.lung, mask, column, sliceSize, nz, margin, ceiling[column]);
  return (flagged * summary.voxelMm[0] * summary.voxelMm[1] * summary.voxelMm[2]) / 1000;
}

function noteLungBase(lung: Uint8Array, slice: number, sliceSize: number, k: number, lungBase: Int32Array): void {
  for (let column = 0; column < sliceSize; column++) if (lung[slice + column]) lungBase[column] = k;
}

function rowCeiling(lungBase: Int32Array, ceiling: Int32Array, row: number, nx: number, margin: number, nearestLeft: Int32Array): void {
  let last = -1;
  for (let i = 0; i < nx; i++) {
    if (lungBase[row + i] >= 0) last = lungBase[row + i];
    nearestLeft[i] = last;
  }
  last = -1;
  for (let i = nx - 1; i >= 0; i--) {
    if (lungBase[row + i] >= 0) {
      last = lungBase[row + i];
      continue;
    }
    if (last >= 0 && nearestLeft[i] >= 0) ceiling[row + i] = Math.max(last, nearestLeft[i]) + margin;
  }
}

/** Mask voxels of one column that lie in the chest (rules 1 and 2 above). */
function flaggedInColumn(lung: Uint8Array, mask: Uint8Array, column: number, sliceSize: number, nz: number, margin: number, top: number): number {
  let flagged = 0;
  let lungBelow = 0;
  for (let k = 0; k < nz; k++) {
    const p = k * sliceSize + column;
    if (lung[p]) {
      lungBelow++;
      if (mask[p]) flagged++; // the mask on lung air itself
    } else if (mask[p] && (lungBelow >= margin || (top >= 0 && k > top))) flagged++;
  }
  return flagged;
}

/** The mask on the model grid (nearest voxel centre, canonical order), for maskAboveDiaphragmMl. */
export function maskOnModelGrid(mask: Volume<Uint8Array>, reorientation: Reorientation, modelDims: Vec3): Uint8Array {
  const view = canonicalView(mask.voxels, mask, reorientation);
  const offsets = [0, 1, 2].map((axis) =>
    Int32Array.from({ length: modelDims[axis] }, (_, m) => Math.min(view.dims[axis] - 1, Math.floor(((m + 0.5) * view.dims[axis]) / modelDims[axis])) * view.strides[axis]),
  );
  const [nx, ny, nz] = modelDims;
  const out = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) sampleRow(view.data, view.offset + offsets[2][k] + offsets[1][j], offsets[0], out, (k * ny + j) * nx);
  }
  return out;
}

function sampleRow(data: Uint8Array, base: number, offsets: Int32Array, out: Uint8Array, target: number): void {
  for (let i = 0; i < offsets.length; i++) out[target + i] = data[base + offsets[i]] ? 1 : 0;
}

function litres(ml: number): string {
  return ml >= 1000 ? `${(ml / 1000).toFixed(2)} L` : `${ml.toFixed(0)} mL`;
}

/** Warnings about the input, worded for the reader of the images. */
export function inputWarnings(summary: InputSummary | undefined, nonFinite: number, voxelCount: number): string[] {
  const warnings: string[] = [];
  if (nonFinite > 0) {
    warnings.push(
      `${nonFinite.toLocaleString('en-US')} of the CT's ${voxelCount.toLocaleString('en-US')} voxels are not numbers (NaN or infinite) and were read as air; ` +
        'the file may be damaged or badly converted. Check the image and the mask.',
    );
  }
  if (!summary) return warnings;
  if (isBlank(summary)) {
    warnings.push(`The CT is blank: every voxel has the same value (${formatHu(summary.min)}). There is no image to segment: the mask means nothing.`);
  } else if (hasNoBody(summary)) {
    warnings.push(
      `The CT shows no body: only ${(summary.bodyFraction * 100).toFixed(2)} % of it is denser than air. ` +
        'Is it the right series, in Hounsfield units? The mask means nothing.',
    );
  } else if (isNotHounsfield(summary)) {
    warnings.push(
      `The CT's values are not Hounsfield units: its darkest region reads ${formatHu(summary.min)}, where air reads about -1000 HU ` +
        'and fat about -100 HU. It was probably stored without its rescale intercept (CT numbers starting at 0) or rescaled. The mask means nothing.',
    );
  }
  return warnings;
}

export function isBlank(summary: InputSummary): boolean {
  return !(summary.max > summary.min);
}

export function hasNoBody(summary: InputSummary): boolean {
  return summary.bodyFraction < MIN_BODY_FRACTION;
}

/** Neither air nor fat anywhere in a field as wide as an abdomen: the values cannot be Hounsfield units. */
export function isNotHounsfield(summary: InputSummary): boolean {
  const wide = [0, 1].every((axis) => summary.dims[axis] * summary.voxelMm[axis] >= HU_CHECK_MIN_FIELD_MM);
  return wide && !isBlank(summary) && summary.min > DARKEST_HU_AT_MOST;
}

function formatHu(value: number): string {
  return Number.isFinite(value) ? `${Number(value.toFixed(1))} HU` : 'not a number';
}

/** Warnings about the result: an implausible volume, a mask reaching into the chest. */
export function resultWarnings(volumeMl: number, aboveDiaphragmMl: number | undefined): string[] {
  const warnings: string[] = [];
  const [low, high] = LIVER_VOLUME_PLAUSIBLE_ML;
  if (volumeMl === 0) {
    warnings.push('No liver was found in this CT (the mask is empty). Check that the series covers the upper abdomen.');
  } else if (volumeMl < low) {
    warnings.push(
      `The liver volume is ${litres(volumeMl)}, implausibly small for an adult liver (below ${low / 1000} L; most are 1-2.5 L): ` +
        'the mask probably misses much of the liver, or the CT shows only part of it. Check the mask before using it.',
    );
  } else if (volumeMl > high) {
    warnings.push(
      `The liver volume is ${litres(volumeMl)}, implausibly large for a liver (over ${high / 1000} L; most are 1-2.5 L): ` +
        'the mask probably includes neighbouring organs. Check the mask before using it.',
    );
  }
  if (aboveDiaphragmMl !== undefined && aboveDiaphragmMl >= ABOVE_DIAPHRAGM_MIN_ML) {
    warnings.push(
      `The liver mask reaches above the diaphragm: about ${litres(aboveDiaphragmMl)} of it lies in the chest, over or between the lungs' bases ` +
        '(heart, lung or chest wall, not liver). Check the upper slices before using it.',
    );
  }
  return warnings;
}

const cm2 = (mm2: number) => (mm2 / 100).toFixed(0);

/** Liver in a series' end slice (mm²) from which the series is taken to cut the liver: more than a dome's last sliver. */
export const LIVER_CUT_MIN_MM2 = 500;

/**
 * A warning when the mask fills part of the series' first or last slice (head-feet): the series does not hold the
 * whole liver (a slab, an abdomen series that starts below the dome), so its volume is not the liver's.
 */
export function cutLiverWarnings(endAreasMm2: { head: number; feet: number }, volumeMl: number): string[] {
  const ends = (['head', 'feet'] as const).filter((end) => endAreasMm2[end] >= LIVER_CUT_MIN_MM2);
  if (ends.length === 0 || volumeMl === 0) return [];
  const [at, areas, slices] = ends.length === 2
    ? ['at the head and at the feet', `${cm2(endAreasMm2.head)} and ${cm2(endAreasMm2.feet)} cm²`, 'its first and last slices']
    : [`at the ${ends[0]}`, `${cm2(endAreasMm2[ends[0]])} cm²`, `its ${ends[0] === 'head' ? 'top' : 'bottom'} slice`];
  return [
    `The series ends inside the liver ${at} (${areas} of liver in ${slices}): part of the liver lies outside the series, ` +
      `so ${litres(volumeMl)} is the volume of the part shown, not of the whole liver. For the whole liver, use a series that covers it from dome to tip.`,
  ];
}
