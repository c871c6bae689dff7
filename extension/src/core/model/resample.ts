/**
 * Separable trilinear resampling with the half-pixel convention of PyTorch
 * `F.interpolate(mode="trilinear", align_corners=False)` (model contract, step 2): output voxel o along
 * an axis samples input coordinate (o + 0.5) * (nIn / nOut) - 0.5, clamped to [0, nIn - 1].
 *
 * Trilinear interpolation is a product of three 1-D linear interpolations, so it is done as three
 * passes of two taps each instead of one pass of eight; each pass stores float32, as PyTorch does.
 * Plain typed-array loops: no per-voxel allocation, no closures in the inner loops.
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

/**
 * The first pass, read through a strided (reoriented) view of the source, so the source is never
 * copied into canonical order. Output is dense in canonical order.
 */
function resampleStridedAxis(view: StridedView, axis: 0 | 1 | 2, taps: AxisTaps): Float32Array {
  const outDims: Vec3 = [...view.dims];
  outDims[axis] = taps.lower.length;
  // Per-axis source offsets of tap 0 and tap 1; for the two copied axes both are t * stride.
  const offsets0: Int32Array[] = [];
  const offsets1: Int32Array[] = [];
  for (let a = 0; a < 3; a++) {
    const n = outDims[a];
    const o0 = new Int32Array(n);
    const o1 = new Int32Array(n);
    for (let t = 0; t < n; t++) {
      o0[t] = (a === axis ? taps.lower[t] : t) * view.strides[a];
      o1[t] = (a === axis ? taps.upper[t] : t) * view.strides[a];
    }
    offsets0.push(o0);
    offsets1.push(o1);
  }
  const [ox, oy, oz] = outDims;
  const output = new Float32Array(ox * oy * oz);
  const data = view.data;
  const [x0, y0, z0] = offsets0;
  const [x1, y1, z1] = offsets1;
  const weight = taps.weight;
  let out = 0;
  for (let k = 0; k < oz; k++) {
    for (let j = 0; j < oy; j++) {
      const row0 = view.offset + y0[j] + z0[k];
      const row1 = view.offset + y1[j] + z1[k];
      const wRow = axis === 0 ? -1 : axis === 1 ? weight[j] : weight[k];
      if (wRow === -1) {
        for (let i = 0; i < ox; i++) {
          const a = data[row0 + x0[i]];
          output[out++] = a + (data[row1 + x1[i]] - a) * weight[i];
        }
      } else {
        for (let i = 0; i < ox; i++) {
          const a = data[row0 + x0[i]];
          output[out++] = a + (data[row1 + x0[i]] - a) * wRow;
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

/** Resize a (strided) volume to `outDims` with half-pixel trilinear interpolation. */
export function resampleTrilinear(view: StridedView, outDims: Vec3): Float32Array {
  const order = passOrder(view.dims, outDims);
  const dims: Vec3 = [...view.dims];
  const first = order[0];
  let buffer = resampleStridedAxis(view, first, halfPixelTaps(dims[first], outDims[first]));
  dims[first] = outDims[first];
  for (const axis of order.slice(1)) {
    // Same size: half-pixel maps o to o exactly, nothing to do.
    if (dims[axis] === outDims[axis]) continue;
    buffer = resampleAxis(buffer, dims, axis, halfPixelTaps(dims[axis], outDims[axis]));
    dims[axis] = outDims[axis];
  }
  return buffer;
}
