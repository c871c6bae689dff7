/**
 * Real liver shapes for the phantom: a binary liver mask from a labelled scan (any grid, any
 * modality; e.g. the CHAOS MR labels in ../shared/data) placed into the phantom's liver region,
 * instead of the union of ellipsoid lobes. The mask is moved so that its centroid lands where the
 * ellipsoid liver's centroid was, turned about the body axis, stretched a little per axis and scaled
 * to the phantom's target liver volume. Between the mask's slices the outline is interpolated by
 * signed distance (slice-distance.ts), as thick MR slices would otherwise leave a staircase.
 */
import { RtLiverError } from '../extension/src/core/errors';
import { indexToWorld, invert3x3, indexToWorldMatrix, type Vec3, type Volume, voxelVolumeMl } from '../extension/src/core/volume';
import { FAR_MM, sliceSignedDistance } from './slice-distance';

const { abs, cos, floor, max, round, sin, sqrt } = Math;

export interface LiverShape {
  /** A label volume; voxels whose value is one of `labels` are liver. */
  mask: Volume;
  /** Default [1]. MSD Task03 labels are [1, 2] (liver and tumour). */
  labels?: number[];
  /** Where the shape came from, for provenance (a file name). */
  name?: string;
}

/** Where and how big the shape is drawn: phantom point p maps to shape point centroid + T^-1 (p - center). */
export interface LiverPlacement {
  /** Phantom position (mm) of the shape's centroid. */
  center: Vec3;
  /** Isotropic scale (calibrated to the target liver volume). */
  scale: number;
  /** Rotation about the cranio-caudal axis (radians). */
  yaw: number;
  /** Per-axis stretch (x, y, z) on top of the scale. */
  stretch: Vec3;
}

/** A liver mask prepared for fast point queries. */
export class LiverShapeSampler {
  readonly centroid: Vec3;
  readonly volumeMl: number;
  /** Largest distance (mm) of a liver voxel centre from the centroid. */
  readonly radius: number;
  private readonly inverse: number[][];
  /** Per-slice signed distance to the liver outline (mm, negative inside). */
  private readonly distance: Float32Array;

  constructor(private readonly shape: LiverShape) {
    const { mask } = shape;
    const labels = new Set(shape.labels ?? [1]);
    const [nx, ny, nz] = mask.dimensions;
    const inside = new Uint8Array(mask.voxels.length);
    let count = 0;
    const sum: Vec3 = [0, 0, 0];
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const p = i + j * nx + k * nx * ny;
          if (!labels.has(round(mask.voxels[p]))) continue;
          inside[p] = 1;
          const w = indexToWorld(mask, [i, j, k]);
          sum[0] += w[0];
          sum[1] += w[1];
          sum[2] += w[2];
          count++;
        }
      }
    }
    if (count === 0) {
      throw new RtLiverError('PHANTOM_EMPTY_LIVER_SHAPE', `The liver shape ${shape.name ?? ''} has no voxel labelled ${[...labels].join(' or ')}.`,
        'Give a label volume whose liver label is set (CHAOS and MSD use 1).');
    }
    this.centroid = [sum[0] / count, sum[1] / count, sum[2] / count];
    this.volumeMl = count * voxelVolumeMl(mask);
    let farthest = 0;
    for (const corner of [[0, 0, 0], [nx - 1, 0, 0], [0, ny - 1, 0], [0, 0, nz - 1], [nx - 1, ny - 1, 0], [nx - 1, 0, nz - 1], [0, ny - 1, nz - 1], [nx - 1, ny - 1, nz - 1]] as Vec3[]) {
      const w = indexToWorld(mask, corner);
      farthest = max(farthest, sqrt((w[0] - this.centroid[0]) ** 2 + (w[1] - this.centroid[1]) ** 2 + (w[2] - this.centroid[2]) ** 2));
    }
    this.radius = farthest;
    this.inverse = invert3x3(indexToWorldMatrix(mask));
    this.distance = sliceSignedDistance(inside, mask.dimensions, mask.spacing);
  }

  get name(): string | undefined {
    return this.shape.name;
  }

  /**
   * True when phantom point (x, y, z) falls in the liver under the placement: the per-slice signed
   * distance is interpolated trilinearly and cut at 0 (shape-based interpolation), so thick-slice
   * masks give smooth surfaces rather than a staircase.
   */
  contains(placement: LiverPlacement, x: number, y: number, z: number): boolean {
    const dx = x - placement.center[0];
    const dy = y - placement.center[1];
    const dz = z - placement.center[2];
    const c = cos(placement.yaw);
    const s = sin(placement.yaw);
    // Undo rotation, then stretch and scale.
    const u = (c * dx + s * dy) / (placement.scale * placement.stretch[0]);
    const v = (-s * dx + c * dy) / (placement.scale * placement.stretch[1]);
    const w = dz / (placement.scale * placement.stretch[2]);
    const { mask } = this.shape;
    const ox = this.centroid[0] + u - mask.origin[0];
    const oy = this.centroid[1] + v - mask.origin[1];
    const oz = this.centroid[2] + w - mask.origin[2];
    const m = this.inverse;
    const fi = m[0][0] * ox + m[0][1] * oy + m[0][2] * oz;
    const fj = m[1][0] * ox + m[1][1] * oy + m[1][2] * oz;
    const fk = m[2][0] * ox + m[2][1] * oy + m[2][2] * oz;
    const [nx, ny, nz] = mask.dimensions;
    if (fi < -1 || fj < -1 || fk < -1 || fi > nx || fj > ny || fk > nz) return false;
    const i0 = floor(fi);
    const j0 = floor(fj);
    const k0 = floor(fk);
    const ti = fi - i0;
    const tj = fj - j0;
    const tk = fk - k0;
    let value = 0;
    for (let corner = 0; corner < 8; corner++) {
      const i = i0 + (corner & 1);
      const j = j0 + ((corner >> 1) & 1);
      const k = k0 + ((corner >> 2) & 1);
      const outside = i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz;
      const weight = (corner & 1 ? ti : 1 - ti) * ((corner >> 1) & 1 ? tj : 1 - tj) * ((corner >> 2) & 1 ? tk : 1 - tk);
      value += weight * (outside ? FAR_MM : this.distance[i + j * nx + k * nx * ny]);
    }
    return value < 0;
  }

  /** Half-size of a box (mm) around the placement centre that holds the whole placed shape. */
  reach(placement: LiverPlacement): number {
    return this.radius * placement.scale * max(...placement.stretch.map(abs)) + 2;
  }
}
