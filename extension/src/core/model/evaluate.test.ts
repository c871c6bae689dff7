import type { Vec3, Volume, VolumeGeometry } from '../volume';
import { binarize, compareMasks, hausdorff95, resampleMaskNearest } from './evaluate';

const IDENTITY: [Vec3, Vec3, Vec3] = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

function grid(dimensions: Vec3, spacing: Vec3, origin: Vec3 = [0, 0, 0], direction = IDENTITY): VolumeGeometry {
  return { dimensions, spacing, origin, direction };
}

/** A mask that is 1 where `inside(world)` holds. */
function maskOf(geometry: VolumeGeometry, inside: (x: number, y: number, z: number) => boolean): Volume<Uint8Array> {
  const [nx, ny, nz] = geometry.dimensions;
  const voxels = new Uint8Array(nx * ny * nz);
  let n = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        const x = geometry.origin[0] + i * geometry.spacing[0] * geometry.direction[0][0] + j * geometry.spacing[1] * geometry.direction[1][0] + k * geometry.spacing[2] * geometry.direction[2][0];
        const y = geometry.origin[1] + i * geometry.spacing[0] * geometry.direction[0][1] + j * geometry.spacing[1] * geometry.direction[1][1] + k * geometry.spacing[2] * geometry.direction[2][1];
        const z = geometry.origin[2] + i * geometry.spacing[0] * geometry.direction[0][2] + j * geometry.spacing[1] * geometry.direction[1][2] + k * geometry.spacing[2] * geometry.direction[2][2];
        voxels[n] = inside(x, y, z) ? 1 : 0;
      }
    }
  }
  return { ...geometry, voxels };
}

/** HD95 by brute force over all surface pairs (numpy-style percentile). */
function bruteHd95(a: Uint8Array, b: Uint8Array, g: VolumeGeometry): number {
  const [nx, ny, nz] = g.dimensions;
  const at = (m: Uint8Array, i: number, j: number, k: number) => (i >= 0 && i < nx && j >= 0 && j < ny && k >= 0 && k < nz ? m[i + j * nx + k * nx * ny] : 0);
  const surfacePoints = (m: Uint8Array) => {
    const points: Vec3[] = [];
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++)
          if (at(m, i, j, k) && (!at(m, i - 1, j, k) || !at(m, i + 1, j, k) || !at(m, i, j - 1, k) || !at(m, i, j + 1, k) || !at(m, i, j, k - 1) || !at(m, i, j, k + 1)))
            points.push([i * g.spacing[0], j * g.spacing[1], k * g.spacing[2]]);
    return points;
  };
  const sa = surfacePoints(a);
  const sb = surfacePoints(b);
  const nearest = (p: Vec3, set: Vec3[]) => Math.min(...set.map((q) => Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2])));
  const all = [...sa.map((p) => nearest(p, sb)), ...sb.map((p) => nearest(p, sa))].sort((x, y) => x - y);
  const position = (all.length - 1) * 0.95;
  const lower = Math.floor(position);
  return all[lower] + (all[Math.min(lower + 1, all.length - 1)] - all[lower]) * (position - lower);
}

describe('Dice, HD95 and volumes', () => {
  it('identical masks: Dice 1, HD95 0, no volume difference', () => {
    const g = grid([20, 20, 10], [1, 1, 2]);
    const mask = maskOf(g, (x, y, z) => x > 4 && x < 14 && y > 3 && y < 12 && z > 2 && z < 15);
    const result = compareMasks(mask, mask);
    expect(result.dice).toBe(1);
    expect(result.hd95_mm).toBe(0);
    expect(result.volume_difference_ml).toBe(0);
  });

  it('two boxes offset along x: the Dice of their overlap and the exact volumes', () => {
    const g = grid([30, 20, 10], [1, 1, 1]);
    const ref = maskOf(g, (x, y, z) => x >= 5 && x < 15 && y >= 5 && y < 15 && z >= 2 && z < 7); // 10x10x5 = 500
    const pred = maskOf(g, (x, y, z) => x >= 8 && x < 18 && y >= 5 && y < 15 && z >= 2 && z < 7); // overlap 7x10x5 = 350
    const result = compareMasks(pred, ref);
    expect(result.voxels_overlap).toBe(350);
    expect(result.dice).toBeCloseTo(0.7, 12);
    expect(result.volume_pred_ml).toBeCloseTo(0.5, 12);
    expect(result.volume_difference_percent).toBe(0);
  });

  it('HD95 equals a brute-force computation on an anisotropic grid', () => {
    const g = grid([24, 22, 12], [0.8, 1.1, 2.5]);
    const ref = maskOf(g, (x, y, z) => (x - 9) ** 2 / 25 + (y - 11) ** 2 / 36 + (z - 14) ** 2 / 60 < 1);
    const pred = maskOf(g, (x, y, z) => (x - 10.5) ** 2 / 30 + (y - 10) ** 2 / 25 + (z - 15) ** 2 / 40 < 1 || (x > 15 && x < 17 && y > 18 && z > 20));
    const fast = hausdorff95(pred.voxels, ref.voxels, g);
    expect(fast).not.toBeNull();
    expect(fast!).toBeGreaterThan(0);
    expect(fast!).toBeCloseTo(bruteHd95(pred.voxels, ref.voxels, g), 9);
  });

  it('HD95 is null when a mask is empty, and Dice is 0', () => {
    const g = grid([8, 8, 8], [1, 1, 1]);
    const ref = maskOf(g, (x) => x > 3);
    const empty = maskOf(g, () => false);
    const result = compareMasks(empty, ref);
    expect(result.dice).toBe(0);
    expect(result.hd95_mm).toBeNull();
  });

  it('compares masks on different grids through world coordinates', () => {
    // The same ball on a coarse RAS grid and on a fine LPS grid.
    const ball = (x: number, y: number, z: number) => (x - 20) ** 2 + (y - 18) ** 2 + (z - 25) ** 2 < 12 ** 2;
    const fine = grid([80, 72, 50], [0.5, 0.5, 1], [0, 0, 0]);
    const coarseRas = grid([40, 36, 25], [1, 1, 2], [39.5, 35.5, 0.5], [
      [-1, 0, 0],
      [0, -1, 0],
      [0, 0, 1],
    ]);
    const ref = maskOf(fine, ball);
    const pred = maskOf(coarseRas, ball);
    const result = compareMasks(pred, ref);
    expect(result.dice).toBeGreaterThan(0.93);
    expect(result.hd95_mm!).toBeLessThanOrEqual(1.5);
    expect(Math.abs(result.volume_difference_percent!)).toBeLessThan(3);
  });

  it('resampling onto the same grid returns the mask unchanged, and labels binarize by value', () => {
    const g = grid([4, 4, 4], [1, 1, 1]);
    const labels: Volume<Int16Array> = { ...g, voxels: Int16Array.from({ length: 64 }, (_, n) => n % 6) };
    const liver = binarize(labels, 5);
    expect(liver.voxels.reduce((s, v) => s + v, 0)).toBe(10);
    expect(resampleMaskNearest(liver, g).voxels).toBe(liver.voxels);
    expect(binarize(labels).voxels.reduce((s, v) => s + v, 0)).toBe(53);
  });
});
