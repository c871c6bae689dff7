/**
 * Trilinear resampling with the half-pixel convention of PyTorch
 * `F.interpolate(mode="trilinear", align_corners=False)` (model contract, step 2): output voxel o along
 * an axis samples input coordinate (o + 0.5) * (nIn / nOut) - 0.5, clamped to [0, nIn - 1].
 *
 * Two ways to do it: source slices reduced in-plane once each, then lerped along k (resampleTrilinear:
 * cheapest when the output is much smaller than the input, as in pre-processing), or three separable
 * passes of two taps (resampleAxis: cheapest when the output is much larger, as when post-processing
 * brings the model's output back to the CT grid). Plain typed-array loops: no per-voxel allocation, no closures.
 */
import type { Vec3 } from '../volume';
import { RunsBuilder, type Runs } from './components';
import type { StridedView } from './orientation';

/** The two input taps and the weight of the second, for each output position along one axis. */
export interface AxisTaps {
  lower: Int32Array;
  upper: Int32Array;
  weight: Float64Array;
}

/**
 * Taps for resizing nIn samples to nOut (half-pixel). Only outputs in [first, first + count) are
 * computed, which lets post-processing resample a sub-box of the output grid.
 */
export function halfPixelTaps(nIn: number, nOut: number, first = 0, count = nOut - first): AxisTaps {
  const lower = new Int32Array(count);
  const upper = new Int32Array(count);
  const weight = new Float64Array(count);
  const scale = nIn / nOut;
  for (let t = 0; t < count; t++) {
    let x = (first + t + 0.5) * scale - 0.5;
    if (x < 0) x = 0;
    if (x > nIn - 1) x = nIn - 1;
    const i0 = Math.floor(x);
    lower[t] = i0;
    upper[t] = i0 < nIn - 1 ? i0 + 1 : i0;
    weight[t] = x - i0;
  }
  return { lower, upper, weight };
}

/** Shift tap indices so that they address a buffer that starts at input index `start`. */
export function shiftTaps(taps: AxisTaps, start: number): AxisTaps {
  return {
    lower: taps.lower.map((i) => i - start),
    upper: taps.upper.map((i) => i - start),
    weight: taps.weight,
  };
}

/**
 * One pass over a dense buffer (i fastest) of `dims`: resample along `axis` with `taps`; the other
 * two axes are copied through. Returns a dense float32 buffer with dims[axis] = taps.lower.length.
 */
export function resampleAxis(input: ArrayLike<number>, dims: Vec3, axis: 0 | 1 | 2, taps: AxisTaps): Float32Array {
  const count = taps.lower.length;
  // Index = (outer * n + t) * inner + innerIndex, the same formula for each axis.
  const inner = axis === 0 ? 1 : axis === 1 ? dims[0] : dims[0] * dims[1];
  const outer = axis === 0 ? dims[1] * dims[2] : axis === 1 ? dims[2] : 1;
  const nIn = dims[axis];
  const output = new Float32Array(outer * count * inner);
  const { lower, upper, weight } = taps;
  // Small per-row functions: V8 optimizes them sooner than one big loop nest (see resampleAxisToRuns).
  if (inner === 1) {
    for (let o = 0; o < outer; o++) lerpAlongRow(input, o * nIn, output, o * count, taps);
    return output;
  }
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < count; t++) {
      lerpRows(input, (o * nIn + lower[t]) * inner, (o * nIn + upper[t]) * inner, weight[t], output, (o * count + t) * inner, inner);
    }
  }
  return output;
}

/** output[outBase + t] = the input row at inBase interpolated at each tap t. */
function lerpAlongRow(input: ArrayLike<number>, inBase: number, output: Float32Array, outBase: number, taps: AxisTaps): void {
  const { lower, upper, weight } = taps;
  for (let t = 0; t < lower.length; t++) {
    const a = input[inBase + lower[t]];
    output[outBase + t] = a + (input[inBase + upper[t]] - a) * weight[t];
  }
}

/** output[outRow + i] = row0 + (row1 - row0) * w, element by element over `length` values. */
function lerpRows(input: ArrayLike<number>, row0: number, row1: number, w: number, output: Float32Array, outRow: number, length: number): void {
  if (w === 0) {
    for (let i = 0; i < length; i++) output[outRow + i] = input[row0 + i];
    return;
  }
  for (let i = 0; i < length; i++) {
    const a = input[row0 + i];
    output[outRow + i] = a + (input[row1 + i] - a) * w;
  }
}

/**
 * Axes ordered so that the strongest reduction comes first: later passes then touch fewer voxels.
 * Between equal factors axis 0 goes last: the fused last pass (resampleAxisToRuns) is cheapest along
 * rows, where it works per input segment, and the passes before it then read contiguous rows.
 */
export function passOrder(inDims: Vec3, outDims: Vec3): (0 | 1 | 2)[] {
  return ([0, 1, 2] as const)
    .slice()
    .sort((a, b) => outDims[a] / inDims[a] - outDims[b] / inDims[b] || b - a);
}

/** Output positions grouped by their pair of taps (lower is non-decreasing, so each group is a range). */
interface TapGroups {
  /** Output index where group g starts; first[groups] = number of outputs. */
  first: Int32Array;
  lower: Int32Array;
  upper: Int32Array;
  groups: number;
}

function groupTaps(taps: AxisTaps): TapGroups {
  const count = taps.lower.length;
  const first = new Int32Array(count + 1);
  const lower = new Int32Array(count);
  const upper = new Int32Array(count);
  let groups = 0;
  for (let t = 0; t < count; t++) {
    if (t === 0 || taps.lower[t] !== taps.lower[t - 1] || taps.upper[t] !== taps.upper[t - 1]) {
      first[groups] = t;
      lower[groups] = taps.lower[t];
      upper[groups] = taps.upper[t];
      groups++;
    }
  }
  first[groups] = count;
  return { first, lower, upper, groups };
}

/** 0: every value <= 0, 1: every value > 0, 2: mixed. */
function signState(input: ArrayLike<number>, start: number, end: number): number {
  const positive = input[start] > 0;
  for (let n = start + 1; n < end; n++) if (input[n] > 0 !== positive) return 2;
  return positive ? 1 : 0;
}

/** Runs of values > 0 in each row of `rows` rows of length `length`. */
function positiveRuns(input: ArrayLike<number>, length: number, rows: number): Runs {
  const runs = new RunsBuilder(rows);
  for (let row = 0; row < rows; row++) {
    runs.beginRow(row);
    const base = row * length;
    let open = -1;
    for (let i = 0; i < length; i++) {
      if (input[base + i] > 0) {
        if (open < 0) open = i;
      } else if (open >= 0) {
        runs.push(open, i - 1);
        open = -1;
      }
    }
    if (open >= 0) runs.push(open, length - 1);
  }
  return runs.finish();
}

/**
 * The last pass of an upsampling along j or k, fused with the threshold, straight to runs: like
 * resampleAxis along `axis`, but returns, row by row (rows along i, r = j + k * ny of the output), the
 * runs where the value is > 0. Each output row interpolates two input rows; where those are both
 * positive (or both not), the sign cannot change in between, so that stretch is written without
 * arithmetic: most of a CT is far from the liver's surface, and this is where upsampling gets cheap.
 * (A last pass along i is resampleTwoAxesToRuns.)
 */
export function resampleAxisToRuns(input: ArrayLike<number>, dims: Vec3, axis: 1 | 2, taps: AxisTaps): Runs {
  const [nx, ny, nz] = dims;
  const [oy, oz] = axis === 1 ? [taps.lower.length, nz] : [ny, taps.lower.length];
  const runs = new RunsBuilder(oy * oz);
  // The per-row work lives in small functions: V8 optimizes a small hot function sooner than a big
  // one, and a command-line run post-processes only once, mostly before the optimizer has caught up.
  // An output row comes from two input rows: their positive runs decide which stretches need arithmetic.
  const rowRuns = positiveRuns(input, nx, ny * nz);
  const { lower, upper, weight } = taps;
  for (let k = 0; k < oz; k++) {
    for (let j = 0; j < oy; j++) {
      runs.beginRow(j + k * oy);
      const row0 = axis === 1 ? lower[j] + k * ny : j + lower[k] * ny;
      const row1 = axis === 1 ? upper[j] + k * ny : j + upper[k] * ny;
      pushRowRunsBetweenRows(input, rowRuns, row0, row1, axis === 1 ? weight[j] : weight[k], nx, runs);
    }
  }
  return runs.finish();
}

/**
 * The last two passes of an upsampling whose last axis is i (rows), fused: the pass along `axis`
 * (1 or 2) is not written out as a volume. Each output row's input row is interpolated from two rows
 * of `input` into a one-row scratch buffer (float32, as the separate pass would store it, so the result
 * is the same), then thresholded along i as in resampleAxisToRuns. Where both rows have the same
 * uniform sign the output row is uniform and nothing is computed. Saves the largest intermediate
 * volume: 128 x 512 x D floats when a 512 x 512 CT comes back from the model grid.
 */
export function resampleTwoAxesToRuns(input: ArrayLike<number>, dims: Vec3, axis: 1 | 2, taps: AxisTaps, rowTaps: AxisTaps): Runs {
  const [nx, ny, nz] = dims;
  const [oy, oz] = axis === 1 ? [taps.lower.length, nz] : [ny, taps.lower.length];
  const ox = rowTaps.lower.length;
  const states = new Uint8Array(ny * nz);
  for (let row = 0; row < states.length; row++) states[row] = signState(input, row * nx, (row + 1) * nx);
  const groups = groupTaps(rowTaps);
  const scratch = new Float32Array(nx);
  const runs = new RunsBuilder(oy * oz);
  for (let k = 0; k < oz; k++) {
    for (let j = 0; j < oy; j++) {
      runs.beginRow(j + k * oy);
      const t = axis === 1 ? j : k;
      const row0 = axis === 1 ? taps.lower[j] + k * ny : j + taps.lower[k] * ny;
      const row1 = axis === 1 ? taps.upper[j] + k * ny : j + taps.upper[k] * ny;
      if (states[row0] === states[row1] && states[row0] !== 2) {
        if (states[row0] === 1) runs.push(0, ox - 1);
        continue;
      }
      lerpRows(input, row0 * nx, row1 * nx, taps.weight[t], scratch, 0, nx);
      const state = signState(scratch, 0, nx);
      if (state === 1) runs.push(0, ox - 1);
      else if (state === 2) pushRowRunsByGroups(scratch, 0, groups, rowTaps.weight, runs);
    }
  }
  return runs.finish();
}

/** The positive runs of one output row interpolated along i from the input row starting at `base`. */
function pushRowRunsByGroups(input: ArrayLike<number>, base: number, groups: TapGroups, weight: Float64Array, runs: RunsBuilder): void {
  const { first, lower, upper } = groups;
  let open = -1;
  for (let g = 0; g < groups.groups; g++) {
    const a = input[base + lower[g]];
    const b = input[base + upper[g]];
    const aPositive = a > 0;
    if (aPositive === b > 0) {
      // A convex combination of two positive (or two non-positive) values keeps their sign.
      if (aPositive) {
        if (open < 0) open = first[g];
      } else if (open >= 0) {
        runs.push(open, first[g] - 1);
        open = -1;
      }
      continue;
    }
    for (let t = first[g]; t < first[g + 1]; t++) {
      if (a + (b - a) * weight[t] > 0) {
        if (open < 0) open = t;
      } else if (open >= 0) {
        runs.push(open, t - 1);
        open = -1;
      }
    }
  }
  if (open >= 0) runs.push(open, first[groups.groups] - 1);
}

/**
 * The positive runs of one output row lying between input rows row0 and row1 (weight w towards row1).
 * Walks the stretches between their runs' ends: where both rows are positive the output is too, where
 * neither is it is not, and only where exactly one is (near the liver's surface) is the value computed.
 */
function pushRowRunsBetweenRows(
  input: ArrayLike<number>,
  rowRuns: Runs,
  row0: number,
  row1: number,
  w: number,
  length: number,
  runs: RunsBuilder,
): void {
  const base0 = row0 * length;
  const base1 = row1 * length;
  let a = rowRuns.rowFirst[row0];
  const aEnd = rowRuns.rowFirst[row0 + 1];
  let b = rowRuns.rowFirst[row1];
  const bEnd = rowRuns.rowFirst[row1 + 1];
  let inA = false;
  let inB = false;
  let position = 0;
  let open = -1;
  while (position < length) {
    const nextA = a < aEnd ? (inA ? rowRuns.end[a] + 1 : rowRuns.start[a]) : length;
    const nextB = b < bEnd ? (inB ? rowRuns.end[b] + 1 : rowRuns.start[b]) : length;
    const next = nextA < nextB ? nextA : nextB;
    if (next > position) {
      if (inA && inB) {
        if (open < 0) open = position;
      } else if (inA || inB) {
        for (let i = position; i < next; i++) {
          const v = input[base0 + i];
          if (v + (input[base1 + i] - v) * w > 0) {
            if (open < 0) open = i;
          } else if (open >= 0) {
            runs.push(open, i - 1);
            open = -1;
          }
        }
      } else if (open >= 0) {
        runs.push(open, position - 1);
        open = -1;
      }
      position = next;
    }
    if (nextA === next && a < aEnd) {
      if (inA) a++;
      inA = !inA;
    }
    if (nextB === next && b < bEnd) {
      if (inB) b++;
      inB = !inB;
    }
  }
  if (open >= 0) runs.push(open, length - 1);
}

/**
 * Resize a (strided, e.g. reoriented) volume to `outDims`, as PyTorch's trilinear kernel does: each
 * output voxel is lerp_k(lerp_j(lerp_i(...))) of its eight taps. Each source slice a k tap needs is
 * reduced in (i, j) once, to a small float64 plane, and the last two planes are kept: successive
 * output slices share source slices, so this does about half the arithmetic of eight taps per output
 * voxel, reads each needed source row once, and allocates only two planes besides the output. The
 * values are bit-identical to the eight-tap formula (same operations in the same order, in float64,
 * rounded to float32 once): the training package's fixtures check that.
 */
export function resampleTrilinear(view: StridedView, outDims: Vec3): Float32Array {
  const [ox, oy, oz] = outDims;
  const taps = [0, 1, 2].map((axis) => halfPixelTaps(view.dims[axis], outDims[axis]));
  // Source offsets of the two taps along each axis, stride included.
  const [x, y, z] = taps.map((axisTaps, axis) => ({
    lower: axisTaps.lower.map((t) => t * view.strides[axis]),
    upper: axisTaps.upper.map((t) => t * view.strides[axis]),
    weight: axisTaps.weight,
  }));
  const output = new Float32Array(ox * oy * oz);
  const planes = new PlaneCache(ox * oy);
  for (let k = 0; k < oz; k++) {
    const near = planes.get(view.offset + z.lower[k], (plane, offset) => reduceSlice(view.data, offset, x, y, plane));
    const far = planes.get(view.offset + z.upper[k], (plane, offset) => reduceSlice(view.data, offset, x, y, plane));
    lerpPlanes(near, far, z.weight[k], output, k * ox * oy);
  }
  return output;
}

/** The last two reduced source slices, by source offset (k taps never go backwards). */
class PlaneCache {
  private readonly offsets = [-1, -1];
  private readonly planes: [Float64Array, Float64Array];
  private next = 0;

  constructor(size: number) {
    this.planes = [new Float64Array(size), new Float64Array(size)];
  }

  get(offset: number, fill: (plane: Float64Array, offset: number) => void): Float64Array {
    for (let n = 0; n < 2; n++) if (this.offsets[n] === offset) return this.planes[n];
    const slot = this.next;
    this.next = 1 - slot;
    this.offsets[slot] = offset;
    fill(this.planes[slot], offset);
    return this.planes[slot];
  }
}

/** plane[j * ox + i] = lerp_j(lerp_i(row at the lower j tap), lerp_i(row at the upper j tap)) of the slice at `slice`. */
function reduceSlice(data: ArrayLike<number>, slice: number, x: AxisTaps, y: AxisTaps, plane: Float64Array): void {
  const ox = x.lower.length;
  for (let j = 0; j < y.lower.length; j++) {
    reduceRowPair(data, slice + y.lower[j], slice + y.upper[j], y.weight[j], x, plane, j * ox);
  }
}

/** One row of a reduced slice (a small function that V8 optimizes early, see resampleAxisToRuns). */
function reduceRowPair(data: ArrayLike<number>, row0: number, row1: number, wy: number, x: AxisTaps, plane: Float64Array, out: number): void {
  const { lower: x0, upper: x1, weight: wx } = x;
  for (let i = 0; i < x0.length; i++) {
    const a0 = x0[i];
    const a1 = x1[i];
    const w = wx[i];
    let v0 = data[row0 + a0];
    v0 += (data[row0 + a1] - v0) * w;
    let v1 = data[row1 + a0];
    v1 += (data[row1 + a1] - v1) * w;
    plane[out + i] = v0 + (v1 - v0) * wy;
  }
}

function lerpPlanes(near: Float64Array, far: Float64Array, wz: number, output: Float32Array, out: number): void {
  for (let n = 0; n < near.length; n++) output[out + n] = near[n] + (far[n] - near[n]) * wz;
}
