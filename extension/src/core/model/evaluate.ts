/**
 * Agreement between a predicted and a reference mask: Dice, HD95 (mm) and volumes.
 *
 * Masks on different grids are compared on the reference grid: each reference voxel takes the value of
 * the prediction voxel nearest to its world position (nearest neighbour: labels must not be blended).
 * HD95 follows the common definition (medpy, MONAI): the 95th percentile of the distances from each
 * surface voxel of one mask to the nearest surface voxel of the other, both directions pooled, in mm,
 * computed with an exact Euclidean distance transform on the anisotropic grid.
 */
import type { Vec3, Volume, VolumeGeometry } from '../volume';
import { geometryOf, indexToWorld, voxelVolumeMl, worldToIndex } from '../volume';

export interface MaskAgreement {
  dice: number;
  /** null when either mask is empty (the distance is undefined). */
  hd95_mm: number | null;
  volume_pred_ml: number;
  volume_ref_ml: number;
  volume_difference_ml: number;
  /** (pred - ref) / ref in percent; null for an empty reference. */
  volume_difference_percent: number | null;
  voxels_pred: number;
  voxels_ref: number;
  voxels_overlap: number;
}

/** 1 where `voxels` equals `label` (or is non-zero when label is undefined). */
export function binarize(volume: Volume, label?: number): Volume<Uint8Array> {
  const out = new Uint8Array(volume.voxels.length);
  const source = volume.voxels;
  if (label === undefined) for (let n = 0; n < out.length; n++) out[n] = source[n] !== 0 ? 1 : 0;
  else for (let n = 0; n < out.length; n++) out[n] = source[n] === label ? 1 : 0;
  return { ...geometryOf(volume), voxels: out };
}

function sameGrid(a: VolumeGeometry, b: VolumeGeometry, toleranceMm = 1e-3): boolean {
  if (a.dimensions.some((n, axis) => n !== b.dimensions[axis])) return false;
  const [nx, ny, nz] = a.dimensions;
  const corners: Vec3[] = [
    [0, 0, 0],
    [nx - 1, ny - 1, nz - 1],
    [nx - 1, 0, 0],
    [0, ny - 1, 0],
    [0, 0, nz - 1],
  ];
  return corners.every((corner) => {
    const p = indexToWorld(a, corner);
    const q = indexToWorld(b, corner);
    return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) < toleranceMm;
  });
}

/** A binary mask resampled onto `grid` by nearest neighbour in world coordinates; outside = 0. */
export function resampleMaskNearest(mask: Volume<Uint8Array>, grid: VolumeGeometry): Volume<Uint8Array> {
  if (sameGrid(mask, grid)) return { ...geometryOf(grid), voxels: mask.voxels };
  const [nx, ny, nz] = grid.dimensions;
  const [mx, my, mz] = mask.dimensions;
  const out = new Uint8Array(nx * ny * nz);
  // The map grid index -> mask index is affine: origin + steps along i, j, k.
  const base = worldToIndex(mask, indexToWorld(grid, [0, 0, 0]));
  const step = [0, 1, 2].map((axis) => {
    const unit: Vec3 = [0, 0, 0];
    unit[axis] = 1;
    const p = worldToIndex(mask, indexToWorld(grid, unit));
    return [p[0] - base[0], p[1] - base[1], p[2] - base[2]];
  });
  let n = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      let x = base[0] + j * step[1][0] + k * step[2][0];
      let y = base[1] + j * step[1][1] + k * step[2][1];
      let z = base[2] + j * step[1][2] + k * step[2][2];
      for (let i = 0; i < nx; i++, n++) {
        const a = Math.round(x);
        const b = Math.round(y);
        const c = Math.round(z);
        if (a >= 0 && a < mx && b >= 0 && b < my && c >= 0 && c < mz) out[n] = mask.voxels[a + b * mx + c * mx * my];
        x += step[0][0];
        y += step[0][1];
        z += step[0][2];
      }
    }
  }
  return { ...geometryOf(grid), voxels: out };
}

interface Box {
  lo: Vec3;
  hi: Vec3;
}

function foregroundBox(a: Uint8Array, b: Uint8Array, dims: Vec3): Box | undefined {
  const [nx, ny, nz] = dims;
  const lo: Vec3 = [nx, ny, nz];
  const hi: Vec3 = [-1, -1, -1];
  let n = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        if (a[n] !== 0 || b[n] !== 0) {
          if (i < lo[0]) lo[0] = i;
          if (i > hi[0]) hi[0] = i;
          if (j < lo[1]) lo[1] = j;
          if (j > hi[1]) hi[1] = j;
          if (k < lo[2]) lo[2] = k;
          if (k > hi[2]) hi[2] = k;
        }
      }
    }
  }
  return hi[0] < 0 ? undefined : { lo, hi };
}

/** Surface voxels (foreground with a 6-neighbour that is background or outside), inside `box`. */
function surface(mask: Uint8Array, dims: Vec3, box: Box): Uint8Array {
  const [nx, ny, nz] = dims;
  const [bx, by, bz] = [box.hi[0] - box.lo[0] + 1, box.hi[1] - box.lo[1] + 1, box.hi[2] - box.lo[2] + 1];
  const out = new Uint8Array(bx * by * bz);
  const at = (i: number, j: number, k: number) =>
    i >= 0 && i < nx && j >= 0 && j < ny && k >= 0 && k < nz ? mask[i + j * nx + k * nx * ny] : 0;
  let n = 0;
  for (let k = box.lo[2]; k <= box.hi[2]; k++) {
    for (let j = box.lo[1]; j <= box.hi[1]; j++) {
      for (let i = box.lo[0]; i <= box.hi[0]; i++, n++) {
        if (!at(i, j, k)) continue;
        if (!at(i - 1, j, k) || !at(i + 1, j, k) || !at(i, j - 1, k) || !at(i, j + 1, k) || !at(i, j, k - 1) || !at(i, j, k + 1)) out[n] = 1;
      }
    }
  }
  return out;
}

/**
 * 1-D squared distance transform (Felzenszwalb & Huttenlocher, lower envelope of parabolas) of f,
 * samples `h` mm apart, in place. Infinite samples (no seed yet) add no parabola.
 */
function distanceTransform1d(f: Float64Array, n: number, h: number, v: Int32Array, z: Float64Array, d: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    if (f[q] === Infinity) continue;
    let s = -Infinity;
    while (k >= 0) {
      const p = v[k];
      // Where the parabolas of p and q intersect, in index units.
      s = (f[q] + q * q * h * h - (f[p] + p * p * h * h)) / (2 * h * h * (q - p));
      if (s <= z[k]) k--;
      else break;
    }
    k++;
    v[k] = q;
    z[k] = k === 0 ? -Infinity : s;
    z[k + 1] = Infinity;
  }
  if (k < 0) return; // no finite sample on this line
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const p = v[k];
    d[q] = (q - p) * (q - p) * h * h + f[p];
  }
  for (let q = 0; q < n; q++) f[q] = d[q];
}

/** Squared Euclidean distance (mm^2) from every voxel of the box to the nearest seed voxel. */
function squaredDistanceToSeeds(seeds: Uint8Array, dims: Vec3, spacing: Vec3): Float64Array {
  const [nx, ny, nz] = dims;
  const field = new Float64Array(nx * ny * nz);
  for (let n = 0; n < field.length; n++) field[n] = seeds[n] ? 0 : Infinity;
  const longest = Math.max(nx, ny, nz);
  const line = new Float64Array(longest);
  const v = new Int32Array(longest);
  const z = new Float64Array(longest + 1);
  const d = new Float64Array(longest);
  const strides: Vec3 = [1, nx, nx * ny];
  for (let axis = 0; axis < 3; axis++) {
    const n = dims[axis];
    const stride = strides[axis];
    const [a, b] = [0, 1, 2].filter((other) => other !== axis);
    for (let q = 0; q < dims[b]; q++) {
      for (let p = 0; p < dims[a]; p++) {
        const start = p * strides[a] + q * strides[b];
        for (let t = 0; t < n; t++) line[t] = field[start + t * stride];
        distanceTransform1d(line, n, spacing[axis], v, z, d);
        for (let t = 0; t < n; t++) field[start + t * stride] = line[t];
      }
    }
  }
  return field;
}

function percentile(values: Float64Array, fraction: number): number {
  const sorted = values.slice().sort();
  // Linear interpolation between closest ranks (numpy's default).
  const position = (sorted.length - 1) * fraction;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

function surfaceDistances(from: Uint8Array, toDistanceSquared: Float64Array): number[] {
  const out: number[] = [];
  for (let n = 0; n < from.length; n++) if (from[n]) out.push(Math.sqrt(toDistanceSquared[n]));
  return out;
}

/** HD95 in mm between two binary masks on the same grid; null if either is empty. */
export function hausdorff95(pred: Uint8Array, ref: Uint8Array, grid: VolumeGeometry): number | null {
  const box = foregroundBox(pred, ref, grid.dimensions);
  if (!box) return null;
  const boxDims: Vec3 = [box.hi[0] - box.lo[0] + 1, box.hi[1] - box.lo[1] + 1, box.hi[2] - box.lo[2] + 1];
  const predSurface = surface(pred, grid.dimensions, box);
  const refSurface = surface(ref, grid.dimensions, box);
  if (!predSurface.includes(1) || !refSurface.includes(1)) return null;
  const toRef = squaredDistanceToSeeds(refSurface, boxDims, grid.spacing);
  const toPred = squaredDistanceToSeeds(predSurface, boxDims, grid.spacing);
  const distances = Float64Array.from([...surfaceDistances(predSurface, toRef), ...surfaceDistances(refSurface, toPred)]);
  return percentile(distances, 0.95);
}

/** Compares `pred` with `ref` on the reference grid. */
export function compareMasks(pred: Volume<Uint8Array>, ref: Volume<Uint8Array>): MaskAgreement {
  const onRef = resampleMaskNearest(pred, ref);
  let voxelsPred = 0;
  let voxelsRef = 0;
  let overlap = 0;
  for (let n = 0; n < ref.voxels.length; n++) {
    const p = onRef.voxels[n] !== 0;
    const r = ref.voxels[n] !== 0;
    if (p) voxelsPred++;
    if (r) voxelsRef++;
    if (p && r) overlap++;
  }
  const predOwnVoxels = pred.voxels.reduce((sum, value) => sum + (value !== 0 ? 1 : 0), 0);
  const volumePred = predOwnVoxels * voxelVolumeMl(pred);
  const volumeRef = voxelsRef * voxelVolumeMl(ref);
  return {
    dice: voxelsPred + voxelsRef === 0 ? 1 : (2 * overlap) / (voxelsPred + voxelsRef),
    hd95_mm: hausdorff95(onRef.voxels, ref.voxels, ref),
    volume_pred_ml: volumePred,
    volume_ref_ml: volumeRef,
    volume_difference_ml: volumePred - volumeRef,
    volume_difference_percent: volumeRef > 0 ? (100 * (volumePred - volumeRef)) / volumeRef : null,
    voxels_pred: voxelsPred,
    voxels_ref: voxelsRef,
    voxels_overlap: overlap,
  };
}
