/**
 * Trilinear resampling with the half-pixel convention of PyTorch
 * `F.interpolate(mode="trilinear", align_corners=False)` (model contract, step 2): output voxel o along
 * an axis samples input coordinate (o + 0.5) * (nIn / nOut) - 0.5, clamped to [0, nIn - 1].
 *
 * Two ways to do it: one pass of eight taps per output voxel (resampleTrilinear: cheapest when the
 * output is much smaller than the input, as in pre-processing), or three separable passes of two taps
 * (resampleAxis: cheapest when the output is much larger, as when post-processing brings the model's
 * output back to the CT grid). Plain typed-array loops: no per-voxel allocation, no closures.
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
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const inBase = o * nIn;
      const outBase = o * count;
      for (let t = 0; t < count; t++) {
        const a = input[inBase + lower[t]];
        output[outBase + t] = a + (input[inBase + upper[t]] - a) * weight[t];
      }
    }
    return output;
  }
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < count; t++) {
      const row0 = (o * nIn + lower[t]) * inner;
      const row1 = (o * nIn + upper[t]) * inner;
      const outRow = (o * count + t) * inner;
      const w = weight[t];
      if (w === 0) {
        for (let i = 0; i < inner; i++) output[outRow + i] = input[row0 + i];
      } else {
        for (let i = 0; i < inner; i++) {
          const a = input[row0 + i];
          output[outRow + i] = a + (input[row1 + i] - a) * w;
        }
      }
    }
  }
  return output;
}

/** Axes ordered so that the strongest reduction comes first: later passes then touch fewer voxels. */
export function passOrder(inDims: Vec3, outDims: Vec3): (0 | 1 | 2)[] {
  return ([0, 1, 2] as const)
    .slice()
    .sort((a, b) => outDims[a] / inDims[a] - outDims[b] / inDims[b] || a - b);
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
 * The last pass of an upsampling, fused with the threshold, straight to runs: like resampleAxis along
 * `axis`, but returns, row by row (rows along i, r = j + k * ny of the output), the runs where the
 * value is > 0. Each output row interpolates one or two input rows; where those are both positive (or
 * both not), the sign cannot change in between, so that stretch is written without arithmetic: most
 * of a CT is far from the liver's surface, and this is where upsampling gets cheap.
 */
export function resampleAxisToRuns(input: ArrayLike<number>, dims: Vec3, axis: 0 | 1 | 2, taps: AxisTaps): Runs {
  const [nx, ny, nz] = dims;
  const outDims: Vec3 = [nx, ny, nz];
  outDims[axis] = taps.lower.length;
  const [ox, oy, oz] = outDims;
  const { lower, upper, weight } = taps;
  // Along i (axis 0) an output row comes from one input row: its sign state decides uniform rows.
  // Along j or k it comes from two: their positive runs decide which stretches need arithmetic.
  const states = new Uint8Array(axis === 0 ? ny * nz : 0);
  for (let row = 0; row < states.length; row++) states[row] = signState(input, row * nx, (row + 1) * nx);
  const rowRuns = positiveRuns(input, nx, axis === 0 ? 0 : ny * nz);
  const runs = new RunsBuilder(oy * oz);
  for (let k = 0; k < oz; k++) {
    for (let j = 0; j < oy; j++) {
      runs.beginRow(j + k * oy);
      let open = -1;
      if (axis === 0) {
        const row = j + k * ny;
        if (states[row] !== 2) {
          if (states[row] === 1) runs.push(0, ox - 1);
          continue;
        }
        const base = row * nx;
        for (let t = 0; t < ox; t++) {
          const a = input[base + lower[t]];
          const positive = a + (input[base + upper[t]] - a) * weight[t] > 0;
          if (positive) {
            if (open < 0) open = t;
          } else if (open >= 0) {
            runs.push(open, t - 1);
            open = -1;
          }
        }
      } else {
        // The two input rows this output row lies between, and where. Walk the stretches between
        // their runs' ends: where both rows are positive the output is too, where neither is it is
        // not, and only where exactly one is (near the liver's surface) is the value computed.
        const row0 = axis === 1 ? lower[j] + k * ny : j + lower[k] * ny;
        const row1 = axis === 1 ? upper[j] + k * ny : j + upper[k] * ny;
        const w = axis === 1 ? weight[j] : weight[k];
        const base0 = row0 * nx;
        const base1 = row1 * nx;
        let a = rowRuns.rowFirst[row0];
        const aEnd = rowRuns.rowFirst[row0 + 1];
        let b = rowRuns.rowFirst[row1];
        const bEnd = rowRuns.rowFirst[row1 + 1];
        let inA = false;
        let inB = false;
        let position = 0;
        while (position < ox) {
          const nextA = a < aEnd ? (inA ? rowRuns.end[a] + 1 : rowRuns.start[a]) : ox;
          const nextB = b < bEnd ? (inB ? rowRuns.end[b] + 1 : rowRuns.start[b]) : ox;
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
      }
      if (open >= 0) runs.push(open, ox - 1);
    }
  }
  return runs.finish();
}

/**
 * Resize a (strided, e.g. reoriented) volume to `outDims` in one pass: each output voxel reads its
 * eight taps straight from the source, as PyTorch's trilinear kernel does. For pre-processing
 * (a large CT shrunk to the model grid) this reads ~8 values per *output* voxel and allocates nothing
 * but the output, where separable passes would stream the whole CT and keep float copies of it.
 */
export function resampleTrilinear(view: StridedView, outDims: Vec3): Float32Array {
  const [ox, oy, oz] = outDims;
  const taps = [0, 1, 2].map((axis) => halfPixelTaps(view.dims[axis], outDims[axis]));
  // Source offsets of the two taps along each axis, stride included.
  const offsets = taps.map((axisTaps, axis) => ({
    lower: axisTaps.lower.map((t) => t * view.strides[axis]),
    upper: axisTaps.upper.map((t) => t * view.strides[axis]),
    weight: axisTaps.weight,
  }));
  const [x, y, z] = offsets;
  const x0 = x.lower;
  const x1 = x.upper;
  const wx = x.weight;
  const data = view.data;
  const output = new Float32Array(ox * oy * oz);
  let out = 0;
  for (let k = 0; k < oz; k++) {
    const z0 = view.offset + z.lower[k];
    const z1 = view.offset + z.upper[k];
    const wz = z.weight[k];
    for (let j = 0; j < oy; j++) {
      const wy = y.weight[j];
      const r00 = z0 + y.lower[j];
      const r10 = z0 + y.upper[j];
      const r01 = z1 + y.lower[j];
      const r11 = z1 + y.upper[j];
      for (let i = 0; i < ox; i++) {
        const a0 = x0[i];
        const a1 = x1[i];
        const w = wx[i];
        let v00 = data[r00 + a0];
        v00 += (data[r00 + a1] - v00) * w;
        let v10 = data[r10 + a0];
        v10 += (data[r10 + a1] - v10) * w;
        let v01 = data[r01 + a0];
        v01 += (data[r01 + a1] - v01) * w;
        let v11 = data[r11 + a0];
        v11 += (data[r11 + a1] - v11) * w;
        const near = v00 + (v10 - v00) * wy;
        const far = v01 + (v11 - v01) * wy;
        output[out++] = near + (far - near) * wz;
      }
    }
  }
  return output;
}
