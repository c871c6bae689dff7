/**
 * Model logits -> liver mask on the input's own grid (model contract, "Post-processing"):
 *   1. liver logit difference (logits[1] - logits[0]; > 0 means probability > 0.5),
 *   2. resampled back to the input grid, in canonical order, with the inverse half-pixel mapping,
 *   3. thresholded at 0, 4. largest 26-connected component, 5. holes filled per axial slice and in 3-D,
 *   6. scattered back through the reorientation onto the input's voxels; volume = count x voxel volume.
 *
 * Empty space is skipped exactly: a trilinear value is a convex combination of its taps, so a target
 * voxel can only be positive if one of its taps is. Only the box of target voxels whose taps reach
 * the bounding box of positive logits is resampled; everything else is background by construction.
 */
import type { Vec3, Volume, VolumeGeometry } from '../volume';
import { geometryOf, voxelCount, voxelVolumeMl } from '../volume';
import { fillHoleRuns, largestComponentRuns, paintRuns, runVoxels, type Runs } from './components';
import { canonicalView, type Reorientation } from './orientation';
import { halfPixelTaps, passOrder, resampleAxis, resampleAxisToRuns, resampleTwoAxesToRuns, shiftTaps } from './resample';

export interface PostprocessTimings {
  upsample: number;
  largest_component: number;
  fill_holes: number;
  scatter: number;
}

export interface PostprocessResult {
  mask: Volume<Uint8Array>;
  voxels: number;
  volumeMl: number;
  timings: PostprocessTimings;
  warnings: string[];
}

/** Inclusive index box per axis. */
interface Box {
  lo: Vec3;
  hi: Vec3;
}

function boxDims(box: Box): Vec3 {
  return [box.hi[0] - box.lo[0] + 1, box.hi[1] - box.lo[1] + 1, box.hi[2] - box.lo[2] + 1];
}

/** logits [1, 2, D, H, W] -> logits[1] - logits[0], [D, H, W]. */
export function liverLogitDifference(logits: Float32Array, voxels: number): Float32Array {
  if (logits.length !== 2 * voxels) {
    throw new Error(`Expected ${2 * voxels} logits (2 channels), got ${logits.length}.`);
  }
  const difference = new Float32Array(voxels);
  for (let n = 0; n < voxels; n++) difference[n] = logits[voxels + n] - logits[n];
  return difference;
}

function positiveBox(values: Float32Array, dims: Vec3): Box | undefined {
  const [nx, ny, nz] = dims;
  const lo: Vec3 = [nx, ny, nz];
  const hi: Vec3 = [-1, -1, -1];
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = (k * ny + j) * nx;
      let first = 0;
      while (first < nx && !(values[row + first] > 0)) first++;
      if (first === nx) continue;
      let last = nx - 1;
      while (!(values[row + last] > 0)) last--;
      if (first < lo[0]) lo[0] = first;
      if (last > hi[0]) hi[0] = last;
      if (j < lo[1]) lo[1] = j;
      if (j > hi[1]) hi[1] = j;
      if (k < lo[2]) lo[2] = k;
      if (k > hi[2]) hi[2] = k;
    }
  }
  return hi[0] < 0 ? undefined : { lo, hi };
}

function crop(values: Float32Array, dims: Vec3, box: Box): Float32Array {
  const [bx, by, bz] = boxDims(box);
  if (bx === dims[0] && by === dims[1] && bz === dims[2]) return values; // the whole grid: nothing to cut
  const out = new Float32Array(bx * by * bz);
  let o = 0;
  for (let k = box.lo[2]; k <= box.hi[2]; k++) {
    for (let j = box.lo[1]; j <= box.hi[1]; j++) {
      const start = box.lo[0] + j * dims[0] + k * dims[0] * dims[1];
      out.set(values.subarray(start, start + bx), o);
      o += bx;
    }
  }
  return out;
}

/**
 * Resample the model-grid values (canonical order, dims `modelDims`) onto the canonical target grid
 * `targetDims`, thresholded at 0, as runs (see components.ts) over the only box that can be positive.
 */
export function upsampleToRuns(values: Float32Array, modelDims: Vec3, targetDims: Vec3): { box: Box; runs: Runs } | undefined {
  const positive = positiveBox(values, modelDims);
  if (!positive) return undefined;
  const target: Box = { lo: [0, 0, 0], hi: [0, 0, 0] };
  const source: Box = { lo: [0, 0, 0], hi: [0, 0, 0] };
  for (let a = 0; a < 3; a++) {
    const taps = halfPixelTaps(modelDims[a], targetDims[a]);
    let first = 0;
    while (taps.upper[first] < positive.lo[a]) first++;
    let last = targetDims[a] - 1;
    while (taps.lower[last] > positive.hi[a]) last--;
    target.lo[a] = first;
    target.hi[a] = last;
    source.lo[a] = taps.lower[first];
    source.hi[a] = taps.upper[last];
  }
  let buffer = crop(values, modelDims, source);
  const dims = boxDims(source);
  const outDims = boxDims(target);
  // Strongest upsampling last: the earlier passes stay small, and the last, largest one is fused
  // with the threshold and skips rows whose sign cannot change.
  const order = passOrder(modelDims, targetDims);
  const tapsOf = (axis: 0 | 1 | 2) =>
    shiftTaps(halfPixelTaps(modelDims[axis], targetDims[axis], target.lo[axis], outDims[axis]), source.lo[axis]);
  buffer = resampleAxis(buffer, dims, order[0], tapsOf(order[0]));
  dims[order[0]] = outDims[order[0]];
  if (order[2] === 0) {
    // Rows last (the usual axial CT): the middle pass is fused into it, not written out.
    return { box: target, runs: resampleTwoAxesToRuns(buffer, dims, order[1] as 1 | 2, tapsOf(order[1]), tapsOf(0)) };
  }
  buffer = resampleAxis(buffer, dims, order[1], tapsOf(order[1]));
  dims[order[1]] = outDims[order[1]];
  return { box: target, runs: resampleAxisToRuns(buffer, dims, order[2] as 1 | 2, tapsOf(order[2])) };
}

/** upsampleToRuns as a 0/1 mask of the box (for tests and callers that want voxels). */
export function upsampleThreshold(values: Float32Array, modelDims: Vec3, targetDims: Vec3): { box: Box; mask: Uint8Array } | undefined {
  const upsampled = upsampleToRuns(values, modelDims, targetDims);
  if (!upsampled) return undefined;
  const dims = boxDims(upsampled.box);
  const mask = new Uint8Array(dims[0] * dims[1] * dims[2]);
  paintRuns(mask, dims, upsampled.runs);
  return { box: upsampled.box, mask };
}

/** Writes the canonical-order box runs into a buffer on the source grid through the reorientation. */
function scatter(runs: Runs, box: Box, output: Uint8Array, source: VolumeGeometry, reorientation: Reorientation): void {
  const view = canonicalView(output, source, reorientation);
  const [, by, bz] = boxDims(box);
  const [sx, sy, sz] = view.strides;
  for (let k = 0; k < bz; k++) {
    for (let j = 0; j < by; j++) {
      const row = j + k * by;
      const rowBase = view.offset + (box.lo[1] + j) * sy + (box.lo[2] + k) * sz + box.lo[0] * sx;
      for (let r = runs.rowFirst[row]; r < runs.rowFirst[row + 1]; r++) {
        if (sx === 1) {
          // i runs along the source's own rows (the usual axial case): one fill per run.
          output.fill(1, rowBase + runs.start[r], rowBase + runs.end[r] + 1);
        } else {
          for (let i = runs.start[r]; i <= runs.end[r]; i++) output[rowBase + i * sx] = 1;
        }
      }
    }
  }
}

export interface PostprocessInput {
  /** float32 logits [1, 2, D, H, W]. */
  logits: Float32Array;
  /** [D, H, W] of the model grid. */
  modelShape: [number, number, number];
  /** The input volume's own geometry: the mask is returned on it. */
  source: VolumeGeometry;
  reorientation: Reorientation;
  /** Source dimensions in canonical order. */
  canonicalDims: Vec3;
}

export function postprocess(input: PostprocessInput): PostprocessResult {
  const warnings: string[] = [];
  const [depth, height, width] = input.modelShape;
  const modelDims: Vec3 = [width, height, depth];
  const voxels = new Uint8Array(voxelCount(input.source));
  const mask: Volume<Uint8Array> = { ...geometryOf(input.source), voxels };
  const timings: PostprocessTimings = { upsample: 0, largest_component: 0, fill_holes: 0, scatter: 0 };

  let t = performance.now();
  const difference = liverLogitDifference(input.logits, width * height * depth);
  const upsampled = upsampleToRuns(difference, modelDims, input.canonicalDims);
  timings.upsample = performance.now() - t;
  if (!upsampled) {
    warnings.push('The model found no liver in this volume (no voxel above probability 0.5).');
    return { mask, voxels: 0, volumeMl: 0, timings, warnings };
  }
  const dims = boxDims(upsampled.box);

  t = performance.now();
  const liver = largestComponentRuns(upsampled.runs, dims);
  timings.largest_component = performance.now() - t;

  t = performance.now();
  const filled = fillHoleRuns(liver, dims);
  timings.fill_holes = performance.now() - t;

  t = performance.now();
  scatter(filled, upsampled.box, voxels, input.source, input.reorientation);
  const count = runVoxels(filled);
  timings.scatter = performance.now() - t;

  return { mask, voxels: count, volumeMl: count * voxelVolumeMl(input.source), timings, warnings };
}
