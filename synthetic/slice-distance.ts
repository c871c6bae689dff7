/**
 * Signed distances (mm) to a binary mask's boundary, slice by slice, for shape-based interpolation:
 * interpolating these between slices and cutting at 0 morphs one slice's outline into the next,
 * where interpolating the binary mask itself keeps the staircase of thick slices.
 *
 * Exact squared Euclidean distance transform along i then j (Felzenszwalb and Huttenlocher, 2012),
 * with the voxel spacing. Negative inside, positive outside.
 */
const { max, min, sqrt } = Math;

/** Large distance standing in for "no liver anywhere near". */
export const FAR_MM = 1000;

/**
 * 1-D squared distance transform: out[q] = min over p of ((q - p) * step)^2 + f[p], where f is 0 at
 * features and Infinity elsewhere (the lower envelope of parabolas rooted at the finite f[p]).
 */
function transform1d(f: Float64Array, n: number, step: number, out: Float64Array, vertices: Int32Array, bounds: Float64Array): void {
  let first = 0;
  while (first < n && f[first] === Infinity) first++;
  if (first === n) {
    out.fill(Infinity, 0, n);
    return;
  }
  let k = 0;
  vertices[0] = first;
  bounds[0] = -Infinity;
  bounds[1] = Infinity;
  for (let q = first + 1; q < n; q++) {
    if (f[q] === Infinity) continue;
    const xq = q * step;
    let xv = vertices[k] * step;
    let s = (f[q] + xq * xq - (f[vertices[k]] + xv * xv)) / (2 * (xq - xv));
    while (s <= bounds[k]) {
      k--;
      xv = vertices[k] * step;
      s = (f[q] + xq * xq - (f[vertices[k]] + xv * xv)) / (2 * (xq - xv));
    }
    k++;
    vertices[k] = q;
    bounds[k] = s;
    bounds[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    const x = q * step;
    while (bounds[k + 1] < x) k++;
    const xv = vertices[k] * step;
    out[q] = (x - xv) * (x - xv) + f[vertices[k]];
  }
}

/** Squared distance (mm^2) from each pixel of one slice to the nearest pixel where `feature` is true. */
function squaredDistance2d(feature: (p: number) => boolean, nx: number, ny: number, si: number, sj: number): Float64Array {
  const n = max(nx, ny);
  const f = new Float64Array(n);
  const out = new Float64Array(n);
  const vertices = new Int32Array(n);
  const bounds = new Float64Array(n + 1);
  const grid = new Float64Array(nx * ny);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) f[i] = feature(i + j * nx) ? 0 : Infinity;
    transform1d(f, nx, si, out, vertices, bounds);
    for (let i = 0; i < nx; i++) grid[i + j * nx] = out[i];
  }
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) f[j] = grid[i + j * nx];
    transform1d(f, ny, sj, out, vertices, bounds);
    for (let j = 0; j < ny; j++) grid[i + j * nx] = out[j];
  }
  return grid;
}

/**
 * Per-slice signed distance of `inside` (nx*ny*nz, i fastest). A slice without liver next to one
 * with liver gets that neighbour's outside distance plus half the slice step, so the ends of the
 * shape close as domes halfway to the next slice instead of flat cut-offs; farther empty slices FAR_MM.
 */
export function sliceSignedDistance(inside: Uint8Array, dimensions: [number, number, number], spacing: [number, number, number]): Float32Array {
  const [nx, ny, nz] = dimensions;
  const area = nx * ny;
  const sdf = new Float32Array(inside.length).fill(FAR_MM);
  const outsideDistance: (Float64Array | undefined)[] = [];
  for (let k = 0; k < nz; k++) {
    const base = k * area;
    let any = false;
    for (let p = 0; p < area && !any; p++) any = inside[base + p] === 1;
    if (!any) {
      outsideDistance.push(undefined);
      continue;
    }
    const toInside = squaredDistance2d((p) => inside[base + p] === 1, nx, ny, spacing[0], spacing[1]);
    const toOutside = squaredDistance2d((p) => inside[base + p] === 0, nx, ny, spacing[0], spacing[1]);
    outsideDistance.push(toInside);
    for (let p = 0; p < area; p++) {
      sdf[base + p] = inside[base + p] ? -sqrt(toOutside[p]) : sqrt(toInside[p]);
    }
  }
  const half = spacing[2] / 2;
  for (let k = 0; k < nz; k++) {
    if (outsideDistance[k]) continue;
    const neighbours = [outsideDistance[k - 1], outsideDistance[k + 1]].filter((d): d is Float64Array => d !== undefined);
    if (neighbours.length === 0) continue;
    const base = k * area;
    for (let p = 0; p < area; p++) {
      let nearest = Infinity;
      for (const d of neighbours) nearest = min(nearest, d[p]);
      sdf[base + p] = min(FAR_MM, sqrt(nearest) + half);
    }
  }
  return sdf;
}
