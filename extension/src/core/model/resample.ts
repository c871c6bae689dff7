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

/**
 * The last pass of an upsampling, fused with the threshold: like resampleAxis, but writes
 * `value > 0` as 0/1 bytes. Interpolation between two rows that are entirely positive (or entirely
 * not) cannot change sign, so such output rows are filled (or left empty) without arithmetic: most of
 * a CT is far from the liver's edge, and this is where upsampling to 512 x 512 gets cheap.
 */
export function resampleAxisThreshold(input: ArrayLike<number>, dims: Vec3, axis: 0 | 1 | 2, taps: AxisTaps): Uint8Array {
  const count = taps.lower.length;
  const inner = axis === 0 ? 1 : axis === 1 ? dims[0] : dims[0] * dims[1];
  const outer = axis === 0 ? dims[1] * dims[2] : axis === 1 ? dims[2] : 1;
  const nIn = dims[axis];
  const output = new Uint8Array(outer * count * inner);
  const { lower, upper, weight } = taps;
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const inBase = o * nIn;
      const outBase = o * count;
      const state = signState(input, inBase, inBase + nIn);
      if (state === 0) continue;
      if (state === 1) {
        output.fill(1, outBase, outBase + count);
        continue;
      }
      for (let t = 0; t < count; t++) {
        const a = input[inBase + lower[t]];
        output[outBase + t] = a + (input[inBase + upper[t]] - a) * weight[t] > 0 ? 1 : 0;
      }
    }
    return output;
  }
  const states = new Uint8Array(outer * nIn);
  for (let block = 0; block < outer * nIn; block++) states[block] = signState(input, block * inner, (block + 1) * inner);
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < count; t++) {
      const s0 = states[o * nIn + lower[t]];
      const s1 = states[o * nIn + upper[t]];
      const outRow = (o * count + t) * inner;
      if (s0 === s1 && s0 !== 2) {
        if (s0 === 1) output.fill(1, outRow, outRow + inner);
        continue;
      }
      const row0 = (o * nIn + lower[t]) * inner;
      const row1 = (o * nIn + upper[t]) * inner;
      const w = weight[t];
      for (let i = 0; i < inner; i++) {
        const a = input[row0 + i];
        output[outRow + i] = a + (input[row1 + i] - a) * w > 0 ? 1 : 0;
      }
    }
  }
  return output;
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
