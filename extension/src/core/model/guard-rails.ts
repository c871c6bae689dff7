/**
 * Guard rails: checks on the input and on the result that turn a silent wrong answer into a warning a
 * radiologist can act on. The model always gives *a* mask; these say when it cannot be a liver.
 *
 * - Input: non-finite voxels (NaN, +-Inf in float NIfTI files; read as air), a blank CT (one value
 *   everywhere) or a CT without a body (no voxel denser than air): an 11 L "liver" came out of each.
 * - Volume: an adult liver is about 1-2.5 L; below 0.5 L or above 4 L the mask is implausible.
 * - Above the diaphragm: mask voxels on lung, or with lung below them in the same column (along the
 *   patient's feet-head axis), lie in the chest. Lung is the air inside the body (HU < -500, within the body's
 *   outline on its axial slice) in connected regions that reach the top slice of the CT or hold
 *   300 mL or more, which bowel gas does not. Liver lies under the diaphragm's dome, so in any column
 *   lung is above it, never below. Limits of the heuristic: a mask that sits on the central tendon
 *   (the heart, with no lung beneath it) is seen only where lung lies below, and a CT without lung
 *   bases in its field of view gives no warning.
 *
 * All of it runs on the model grid (64 x 128 x 128 voxels in canonical LPS order), a few
 * milliseconds, from the resampled HU values before windowing; the CT's full-size voxels are read
 * only to count non-finite values of float inputs.
 */
import type { Vec3, Volume, VoxelArray } from '../volume';
import { canonicalView, type Reorientation } from './orientation';

export const LIVER_VOLUME_PLAUSIBLE_ML: readonly [number, number] = [500, 4000];
/** Mask volume over lung, in mL, from which the result is flagged as reaching into the chest. */
export const ABOVE_DIAPHRAGM_MIN_ML = 25;

const AIR_HU = -500;
const BODY_HU = -300;
const LUNG_MIN_ML_OFF_TOP = 300;
/** Fraction of model voxels denser than air below which the CT shows no body. */
const MIN_BODY_FRACTION = 0.005;

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

/** Summary of the resampled HU values (before windowing); NaN counts as air. */
export function summarizeInput(hu: Float32Array, dims: Vec3, voxelMm: Vec3): InputSummary {
  let min = Infinity;
  let max = -Infinity;
  let body = 0;
  for (let n = 0; n < hu.length; n++) {
    const value = hu[n];
    if (value < min) min = value;
    if (value > max) max = value;
    if (value >= AIR_HU) body++;
  }
  const voxelMl = (voxelMm[0] * voxelMm[1] * voxelMm[2]) / 1000;
  const lung = findLung(hu, dims, voxelMl);
  let lungVoxels = 0;
  for (let n = 0; n < lung.length; n++) lungVoxels += lung[n];
  return { dims, voxelMm, min, max, bodyFraction: body / hu.length, lung, lungMl: lungVoxels * voxelMl };
}

/** Air inside the body's outline (per axial slice: between the first and last body voxel of its row and of its column). */
function enclosedAir(hu: Float32Array, [nx, ny, nz]: Vec3): Uint8Array {
  const air = new Uint8Array(hu.length);
  const columnFirst = new Int32Array(nx);
  const columnLast = new Int32Array(nx);
  for (let k = 0; k < nz; k++) {
    const slice = k * nx * ny;
    columnFirst.fill(ny);
    columnLast.fill(-1);
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        if (hu[slice + j * nx + i] >= BODY_HU) {
          if (j < columnFirst[i]) columnFirst[i] = j;
          columnLast[i] = j;
        }
      }
    }
    for (let j = 0; j < ny; j++) {
      const row = slice + j * nx;
      let first = 0;
      while (first < nx && !(hu[row + first] >= BODY_HU)) first++;
      let last = nx - 1;
      while (last > first && !(hu[row + last] >= BODY_HU)) last--;
      for (let i = first + 1; i < last; i++) {
        if (!(hu[row + i] >= AIR_HU) && j > columnFirst[i] && j < columnLast[i]) air[row + i] = 1;
      }
    }
  }
  return air;
}

/** Enclosed air in 6-connected regions that reach the top slice or are large: the lungs. */
function findLung(hu: Float32Array, dims: Vec3, voxelMl: number): Uint8Array {
  const [nx, ny, nz] = dims;
  const sliceSize = nx * ny;
  const candidate = enclosedAir(hu, dims); // 1: unvisited air, 2: visited
  const lung = new Uint8Array(hu.length);
  const stack = new Int32Array(hu.length);
  const region = new Int32Array(hu.length);
  for (let seed = 0; seed < candidate.length; seed++) {
    if (candidate[seed] !== 1) continue;
    candidate[seed] = 2;
    let top = 0;
    let size = 0;
    let reachesTop = false;
    stack[top++] = seed;
    while (top > 0) {
      const p = stack[--top];
      region[size++] = p;
      const i = p % nx;
      const j = Math.floor(p / nx) % ny;
      const k = Math.floor(p / sliceSize);
      if (k === nz - 1) reachesTop = true;
      // The six face neighbours, each pushed once.
      if (i > 0 && candidate[p - 1] === 1) { candidate[p - 1] = 2; stack[top++] = p - 1; }
      if (i < nx - 1 && candidate[p + 1] === 1) { candidate[p + 1] = 2; stack[top++] = p + 1; }
      if (j > 0 && candidate[p - nx] === 1) { candidate[p - nx] = 2; stack[top++] = p - nx; }
      if (j < ny - 1 && candidate[p + nx] === 1) { candidate[p + nx] = 2; stack[top++] = p + nx; }
      if (k > 0 && candidate[p - sliceSize] === 1) { candidate[p - sliceSize] = 2; stack[top++] = p - sliceSize; }
      if (k < nz - 1 && candidate[p + sliceSize] === 1) { candidate[p + sliceSize] = 2; stack[top++] = p + sliceSize; }
    }
    const ml = size * voxelMl;
    if ((reachesTop && ml >= 20) || ml >= LUNG_MIN_ML_OFF_TOP) for (let n = 0; n < size; n++) lung[region[n]] = 1;
  }
  return lung;
}

/**
 * Mask volume (mL) on lung, or with at least two lung voxels below it in its column. `mask` is on the
 * model grid (same layout as the summary's lung map).
 */
export function maskAboveDiaphragmMl(summary: InputSummary, mask: Uint8Array): number {
  const [nx, ny, nz] = summary.dims;
  const sliceSize = nx * ny;
  let flagged = 0;
  for (let column = 0; column < sliceSize; column++) {
    let lungBelow = 0;
    for (let k = 0; k < nz; k++) {
      const p = k * sliceSize + column;
      if (summary.lung[p]) {
        lungBelow++;
        if (mask[p]) flagged++; // the mask on lung air itself
      } else if (mask[p] && lungBelow >= 2) flagged++;
    }
  }
  return (flagged * summary.voxelMm[0] * summary.voxelMm[1] * summary.voxelMm[2]) / 1000;
}

/** The mask on the model grid (nearest voxel centre, canonical order), for maskAboveDiaphragmMl. */
export function maskOnModelGrid(mask: Volume<Uint8Array>, reorientation: Reorientation, modelDims: Vec3): Uint8Array {
  const view = canonicalView(mask.voxels, mask, reorientation);
  const offsets = [0, 1, 2].map((axis) =>
    Int32Array.from({ length: modelDims[axis] }, (_, m) => Math.min(view.dims[axis] - 1, Math.floor(((m + 0.5) * view.dims[axis]) / modelDims[axis])) * view.strides[axis]),
  );
  const [nx, ny, nz] = modelDims;
  const out = new Uint8Array(nx * ny * nz);
  let o = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const base = view.offset + offsets[2][k] + offsets[1][j];
      for (let i = 0; i < nx; i++) out[o++] = view.data[base + offsets[0][i]] ? 1 : 0;
    }
  }
  return out;
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
  }
  return warnings;
}

export function isBlank(summary: InputSummary): boolean {
  return !(summary.max > summary.min);
}

export function hasNoBody(summary: InputSummary): boolean {
  return summary.bodyFraction < MIN_BODY_FRACTION;
}

function formatHu(value: number): string {
  return Number.isFinite(value) ? `${Number(value.toFixed(1))} HU` : String(value);
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
      `The liver mask reaches above the diaphragm: about ${litres(aboveDiaphragmMl)} of it lies over lung, in the chest ` +
        '(heart, lung or chest wall, not liver). Check the upper slices before using it.',
    );
  }
  return warnings;
}
