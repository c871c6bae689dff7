/**
 * Canonical LPS index order (model contract, step 1): index axis i' points towards patient Left,
 * j' towards Posterior, k' towards Superior, reached by permuting and flipping the volume's own
 * index axes, never by interpolation.
 *
 * Nothing is copied here. A `StridedView` reads the source buffer in canonical order through strides,
 * so pre-processing gathers straight from the input and post-processing scatters the mask straight
 * back to the input's own grid: the same mapping, used in both directions, is what guarantees that the
 * mask lands on the voxels it was computed from.
 */
import type { Vec3, VolumeGeometry } from '../volume';

export interface Reorientation {
  /** permutation[w] = the source index axis that becomes canonical axis w (0 = L, 1 = P, 2 = S). */
  permutation: Vec3;
  /** flipped[w]: the source axis runs against the canonical direction and is read backwards. */
  flipped: [boolean, boolean, boolean];
}

/** A dense 3-D buffer read in another index order: element (a, b, c) is data[offset + a*s0 + b*s1 + c*s2]. */
export interface StridedView<T extends ArrayLike<number> = ArrayLike<number>> {
  data: T;
  dims: Vec3;
  strides: Vec3;
  offset: number;
}

/**
 * For each of L, P, S the closest index axis, by the direction cosines. Greedy on |cosine| (largest
 * first), so an oblique grid still gets a proper permutation.
 */
export function lpsReorientation(geometry: VolumeGeometry): Reorientation {
  const permutation: Vec3 = [-1, -1, -1];
  const flipped: [boolean, boolean, boolean] = [false, false, false];
  const usedSource = [false, false, false];
  for (let step = 0; step < 3; step++) {
    let best = -1;
    let bestSource = -1;
    let bestWorld = -1;
    for (let source = 0; source < 3; source++) {
      if (usedSource[source]) continue;
      for (let world = 0; world < 3; world++) {
        if (permutation[world] !== -1) continue;
        const magnitude = Math.abs(geometry.direction[source][world]);
        if (magnitude > best) {
          best = magnitude;
          bestSource = source;
          bestWorld = world;
        }
      }
    }
    permutation[bestWorld] = bestSource;
    flipped[bestWorld] = geometry.direction[bestSource][bestWorld] < 0;
    usedSource[bestSource] = true;
  }
  return { permutation, flipped };
}

export function isIdentityReorientation(reorientation: Reorientation): boolean {
  const { permutation, flipped } = reorientation;
  return permutation[0] === 0 && permutation[1] === 1 && permutation[2] === 2 && !flipped.some(Boolean);
}

/** Geometry of the same voxels indexed in canonical order (same world positions, new index axes). */
export function reorientGeometry(geometry: VolumeGeometry, reorientation: Reorientation): VolumeGeometry {
  const { permutation, flipped } = reorientation;
  const origin: Vec3 = [...geometry.origin];
  const dimensions = [0, 0, 0] as Vec3;
  const spacing = [0, 0, 0] as Vec3;
  const direction = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ] as [Vec3, Vec3, Vec3];
  for (let w = 0; w < 3; w++) {
    const source = permutation[w];
    const sign = flipped[w] ? -1 : 1;
    dimensions[w] = geometry.dimensions[source];
    spacing[w] = geometry.spacing[source];
    for (let c = 0; c < 3; c++) direction[w][c] = sign * geometry.direction[source][c];
    if (flipped[w]) {
      // Canonical voxel 0 along this axis is the source's last voxel.
      const reach = (geometry.dimensions[source] - 1) * geometry.spacing[source];
      for (let c = 0; c < 3; c++) origin[c] += geometry.direction[source][c] * reach;
    }
  }
  return { dimensions, spacing, origin, direction };
}

/** A canonical-order view of a buffer laid out on `geometry` (i fastest). */
export function canonicalView<T extends ArrayLike<number>>(
  data: T,
  geometry: VolumeGeometry,
  reorientation: Reorientation,
): StridedView<T> {
  const [nx, ny] = geometry.dimensions;
  const sourceStrides = [1, nx, nx * ny];
  const dims = [0, 0, 0] as Vec3;
  const strides = [0, 0, 0] as Vec3;
  let offset = 0;
  for (let w = 0; w < 3; w++) {
    const source = reorientation.permutation[w];
    dims[w] = geometry.dimensions[source];
    if (reorientation.flipped[w]) {
      strides[w] = -sourceStrides[source];
      offset += (dims[w] - 1) * sourceStrides[source];
    } else {
      strides[w] = sourceStrides[source];
    }
  }
  return { data, dims, strides, offset };
}
