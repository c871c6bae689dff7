import type { Vec3, VolumeGeometry } from '../volume';
import { indexToWorld } from '../volume';
import { fillHoles, keepLargestComponent } from './components';
import { lpsReorientation, reorientGeometry } from './orientation';
import { postprocess, upsampleThreshold } from './postprocess';

function makeMask(dims: Vec3): { mask: Uint8Array; set: (i: number, j: number, k: number, v?: number) => void } {
  const mask = new Uint8Array(dims[0] * dims[1] * dims[2]);
  return { mask, set: (i, j, k, v = 1) => void (mask[i + j * dims[0] + k * dims[0] * dims[1]] = v) };
}

function fillBox(set: (i: number, j: number, k: number, v?: number) => void, lo: Vec3, hi: Vec3, v = 1): void {
  for (let k = lo[2]; k <= hi[2]; k++) for (let j = lo[1]; j <= hi[1]; j++) for (let i = lo[0]; i <= hi[0]; i++) set(i, j, k, v);
}

const sum = (a: Uint8Array) => a.reduce((s, v) => s + v, 0);

describe('largest 26-connected component', () => {
  it('keeps the biggest blob and drops the others', () => {
    const dims: Vec3 = [20, 20, 10];
    const { mask, set } = makeMask(dims);
    fillBox(set, [1, 1, 1], [5, 5, 5]); // 125
    fillBox(set, [10, 10, 2], [12, 12, 4]); // 27
    set(18, 18, 9);
    expect(keepLargestComponent(mask, dims)).toBe(125);
    expect(sum(mask)).toBe(125);
  });

  it('joins voxels that touch only at a corner (26-connectivity)', () => {
    const dims: Vec3 = [8, 8, 8];
    const { mask, set } = makeMask(dims);
    fillBox(set, [0, 0, 0], [2, 2, 2]); // 27
    fillBox(set, [3, 3, 3], [5, 5, 5]); // 27, touches the first at (2,2,2)-(3,3,3) only
    set(7, 0, 7);
    expect(keepLargestComponent(mask, dims)).toBe(54);
    expect(sum(mask)).toBe(54);
  });

  it('returns 0 on an empty mask', () => {
    expect(keepLargestComponent(new Uint8Array(27), [3, 3, 3])).toBe(0);
  });
});

describe('hole filling', () => {
  it('fills an enclosed 3-D cavity but not a channel open to the border', () => {
    const dims: Vec3 = [12, 12, 12];
    const { mask, set } = makeMask(dims);
    fillBox(set, [2, 2, 2], [9, 9, 9]); // 512
    fillBox(set, [4, 4, 4], [6, 6, 6], 0); // cavity of 27
    expect(fillHoles(mask, dims, 'face6')).toBe(27);
    expect(sum(mask)).toBe(512);

    const open = makeMask(dims);
    fillBox(open.set, [2, 2, 2], [9, 9, 9]);
    fillBox(open.set, [5, 5, 2], [5, 5, 9], 0); // a tunnel through k: open in 3-D, enclosed in each slice
    const copy = open.mask.slice();
    expect(fillHoles(copy, dims, 'face6')).toBe(0);
    expect(fillHoles(open.mask, dims, 'slice4')).toBe(8);
    expect(sum(open.mask)).toBe(512);
  });

  it('per-slice filling leaves no 3-D hole behind (why post-processing runs only the per-slice pass)', () => {
    const dims: Vec3 = [20, 18, 12];
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let trial = 0; trial < 20; trial++) {
      const { mask } = makeMask(dims);
      // Dense random blobs make many enclosed cavities of every shape.
      for (let n = 0; n < mask.length; n++) mask[n] = random() < 0.55 + trial * 0.015 ? 1 : 0;
      const threeD = mask.slice();
      const filled3d = fillHoles(threeD, dims, 'face6');
      fillHoles(mask, dims, 'slice4');
      expect(fillHoles(mask, dims, 'face6')).toBe(0);
      // ... and it filled at least what the 3-D pass fills.
      let missed = 0;
      for (let n = 0; n < mask.length; n++) if (threeD[n] && !mask[n]) missed++;
      expect(missed).toBe(0);
      if (trial === 19) expect(filled3d).toBeGreaterThan(0);
    }
  });

  it('does not fill background that reaches the border of a slice', () => {
    const dims: Vec3 = [10, 10, 1];
    const { mask, set } = makeMask(dims);
    fillBox(set, [2, 2, 0], [7, 7, 0]);
    fillBox(set, [4, 4, 0], [4, 9, 0], 0); // a notch from the cavity to the edge
    const before = sum(mask);
    expect(fillHoles(mask, dims, 'slice4')).toBe(0);
    expect(sum(mask)).toBe(before);
  });
});

/** Naive 8-tap trilinear at half-pixel positions over the whole grid: the reference for the box-skipping path. */
function naiveUpsampleThreshold(values: Float32Array, m: Vec3, n: Vec3): Uint8Array {
  const coordinate = (o: number, a: number) => Math.min(Math.max((o + 0.5) * (m[a] / n[a]) - 0.5, 0), m[a] - 1);
  const at = (i: number, j: number, k: number) => values[i + j * m[0] + k * m[0] * m[1]];
  const out = new Uint8Array(n[0] * n[1] * n[2]);
  let index = 0;
  for (let k = 0; k < n[2]; k++) {
    for (let j = 0; j < n[1]; j++) {
      for (let i = 0; i < n[0]; i++) {
        const [x, y, z] = [coordinate(i, 0), coordinate(j, 1), coordinate(k, 2)];
        const [x0, y0, z0] = [Math.floor(x), Math.floor(y), Math.floor(z)];
        const [x1, y1, z1] = [Math.min(x0 + 1, m[0] - 1), Math.min(y0 + 1, m[1] - 1), Math.min(z0 + 1, m[2] - 1)];
        const [fx, fy, fz] = [x - x0, y - y0, z - z0];
        const lerp = (a: number, b: number, t: number) => a + (b - a) * t;
        const v = lerp(
          lerp(lerp(at(x0, y0, z0), at(x1, y0, z0), fx), lerp(at(x0, y1, z0), at(x1, y1, z0), fx), fy),
          lerp(lerp(at(x0, y0, z1), at(x1, y0, z1), fx), lerp(at(x0, y1, z1), at(x1, y1, z1), fx), fy),
          fz,
        );
        out[index++] = v > 0 ? 1 : 0;
      }
    }
  }
  return out;
}

describe('upsampling the logit difference', () => {
  // The largest upsampling runs last (fused with the threshold into runs): cover each axis there.
  it.each([
    [[61, 50, 11], 'j'],
    [[70, 20, 10], 'i'],
    [[20, 14, 40], 'k'],
  ] as [Vec3, string][])('skipping empty space gives the same mask as resampling everything (target %j, last pass along %s)', (n) => {
    const m: Vec3 = [16, 12, 8];
    const values = new Float32Array(m[0] * m[1] * m[2]);
    let index = 0;
    // A smooth blob (positive inside an ellipsoid), off-centre.
    for (let k = 0; k < m[2]; k++) {
      for (let j = 0; j < m[1]; j++) {
        for (let i = 0; i < m[0]; i++) {
          values[index++] = 1 - ((i - 10) / 4) ** 2 - ((j - 4) / 3) ** 2 - ((k - 5) / 2.5) ** 2;
        }
      }
    }
    const reference = naiveUpsampleThreshold(values, m, n);
    const result = upsampleThreshold(values, m, n);
    expect(result).toBeDefined();
    const { box, mask } = result!;
    const full = new Uint8Array(reference.length);
    let b = 0;
    for (let k = box.lo[2]; k <= box.hi[2]; k++) {
      for (let j = box.lo[1]; j <= box.hi[1]; j++) {
        for (let i = box.lo[0]; i <= box.hi[0]; i++) full[i + j * n[0] + k * n[0] * n[1]] = mask[b++];
      }
    }
    expect(sum(reference)).toBeGreaterThan(100);
    expect(Array.from(full)).toEqual(Array.from(reference));
  });

  it('returns nothing when no logit is positive', () => {
    expect(upsampleThreshold(new Float32Array(8).fill(-1), [2, 2, 2], [4, 4, 4])).toBeUndefined();
  });
});

/** logits [1, 2, D, H, W] whose liver-minus-background difference is +1 inside `lo..hi`, -1 elsewhere. */
function boxLogits(modelDims: Vec3, lo: Vec3, hi: Vec3): Float32Array {
  const voxels = modelDims[0] * modelDims[1] * modelDims[2];
  const logits = new Float32Array(2 * voxels);
  let n = 0;
  for (let k = 0; k < modelDims[2]; k++) {
    for (let j = 0; j < modelDims[1]; j++) {
      for (let i = 0; i < modelDims[0]; i++, n++) {
        const inside = i >= lo[0] && i <= hi[0] && j >= lo[1] && j <= hi[1] && k >= lo[2] && k <= hi[2];
        logits[n] = 0.25;
        logits[voxels + n] = inside ? 1.25 : -0.75;
      }
    }
  }
  return logits;
}

describe('post-processing end to end', () => {
  it('gives the exact volume in mL of a box on a same-size grid', () => {
    const dims: Vec3 = [16, 16, 8];
    const source: VolumeGeometry = {
      dimensions: dims,
      spacing: [2, 3, 4],
      origin: [0, 0, 0],
      direction: [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
    };
    const reorientation = lpsReorientation(source);
    const result = postprocess({
      logits: boxLogits(dims, [3, 4, 1], [7, 9, 7]),
      modelShape: [8, 16, 16],
      source,
      reorientation,
      canonicalDims: dims,
    });
    const voxels = 5 * 6 * 7;
    expect(result.voxels).toBe(voxels);
    expect(sum(result.mask.voxels)).toBe(voxels);
    expect(result.volumeMl).toBeCloseTo((voxels * 2 * 3 * 4) / 1000, 12);
    expect(result.warnings).toEqual([]);
  });

  it('returns the mask on the source grid of a RAS, feet-first volume, at the right world positions', () => {
    // Source: i towards Right, j towards Anterior, k towards Inferior (every axis flipped), and permuted i<->j.
    const source: VolumeGeometry = {
      dimensions: [10, 12, 6],
      spacing: [1, 1.5, 2],
      origin: [50, 60, 70],
      direction: [
        [0, -1, 0],
        [-1, 0, 0],
        [0, 0, -1],
      ],
    };
    const reorientation = lpsReorientation(source);
    const canonical = reorientGeometry(source, reorientation);
    expect(canonical.dimensions).toEqual([12, 10, 6]);
    const lo: Vec3 = [2, 3, 1];
    const hi: Vec3 = [5, 8, 3];
    const result = postprocess({
      logits: boxLogits(canonical.dimensions, lo, hi),
      modelShape: [canonical.dimensions[2], canonical.dimensions[1], canonical.dimensions[0]],
      source,
      reorientation,
      canonicalDims: canonical.dimensions,
    });
    expect(result.voxels).toBe(4 * 6 * 3);
    expect(result.mask.dimensions).toEqual(source.dimensions);
    expect(result.mask.direction).toEqual(source.direction);
    // The world box of the canonical index box, and every source mask voxel inside it.
    const corner0 = indexToWorld(canonical, lo);
    const corner1 = indexToWorld(canonical, hi);
    const [nx, ny] = source.dimensions;
    let inside = 0;
    result.mask.voxels.forEach((v, n) => {
      if (!v) return;
      const world = indexToWorld(source, [n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny))]);
      const within = [0, 1, 2].every(
        (c) => world[c] >= Math.min(corner0[c], corner1[c]) - 1e-9 && world[c] <= Math.max(corner0[c], corner1[c]) + 1e-9,
      );
      if (within) inside++;
    });
    expect(inside).toBe(result.voxels);
  });

  it('warns and returns an empty mask when there is no liver', () => {
    const dims: Vec3 = [4, 4, 4];
    const logits = new Float32Array(128);
    logits.fill(1, 0, 64); // background wins everywhere
    const source: VolumeGeometry = { dimensions: dims, spacing: [1, 1, 1], origin: [0, 0, 0], direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };
    const result = postprocess({ logits, modelShape: [4, 4, 4], source, reorientation: lpsReorientation(source), canonicalDims: dims });
    expect(result.voxels).toBe(0);
    expect(result.warnings[0]).toMatch(/no liver/);
  });
});
