import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithSharedData } from '../test/support/shared-data';
import { isRtLiverError } from '../extension/src/core/errors';
import { readNifti } from '../extension/src/core/nifti';
import { indexToWorld, type Vec3, type Volume, voxelVolumeMl } from '../extension/src/core/volume';
import { LiverShapeSampler } from './liver-shape';
import { makeAbdomenPhantom } from './phantom';

const SMALL = { dimensions: [128, 128, 48] as Vec3, spacing: [2.8, 2.8, 5] as Vec3 };

/** An L-shaped "liver" (label 3) beside a block of another label (5), on an anisotropic grid. */
function lShapedMask(): Volume<Uint8Array> {
  const dimensions: Vec3 = [60, 50, 20];
  const voxels = new Uint8Array(60 * 50 * 20);
  for (let k = 2; k < 18; k++) {
    for (let j = 5; j < 45; j++) {
      for (let i = 5; i < 55; i++) {
        const inL = i < 25 || j > 30;
        voxels[i + j * 60 + k * 3000] = inL ? 3 : i > 45 ? 5 : 0;
      }
    }
  }
  return { voxels, dimensions, spacing: [2.5, 2.5, 8], origin: [-50, 20, -70], direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };
}

function liverStats(volume: Volume<Uint8Array>) {
  const [nx, ny, nz] = volume.dimensions;
  let count = 0;
  const sum: Vec3 = [0, 0, 0];
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        if (!volume.voxels[i + j * nx + k * nx * ny]) continue;
        const w = indexToWorld(volume, [i, j, k]);
        sum[0] += w[0];
        sum[1] += w[1];
        sum[2] += w[2];
        count++;
      }
    }
  }
  return { ml: count * voxelVolumeMl(volume), centroid: sum.map((s) => s / count) as Vec3 };
}

describe('LiverShapeSampler', () => {
  it('measures the shape and answers point queries through a placement', () => {
    const sampler = new LiverShapeSampler({ mask: lShapedMask(), labels: [3], name: 'L' });
    // 16 slices x (20 x 40 + 30 x 14) voxels of 2.5 x 2.5 x 8 mm.
    expect(sampler.volumeMl).toBeCloseTo((16 * (20 * 40 + 30 * 14) * 50) / 1000, 6);
    const identity = { center: sampler.centroid, scale: 1, yaw: 0, stretch: [1, 1, 1] as Vec3 };
    const corner = indexToWorld(lShapedMask(), [10, 10, 10]); // in the long arm of the L
    const notch = indexToWorld(lShapedMask(), [40, 15, 10]); // the notch of the L (label 0)
    const other = indexToWorld(lShapedMask(), [50, 15, 10]); // label 5, not liver
    expect(sampler.contains(identity, ...corner)).toBe(true);
    expect(sampler.contains(identity, ...notch)).toBe(false);
    expect(sampler.contains(identity, ...other)).toBe(false);
    // Moved by +100 mm in x: the same point is now outside, the shifted one inside.
    const moved = { ...identity, center: [sampler.centroid[0] + 100, sampler.centroid[1], sampler.centroid[2]] as Vec3 };
    expect(sampler.contains(moved, ...corner)).toBe(false);
    expect(sampler.contains(moved, corner[0] + 100, corner[1], corner[2])).toBe(true);
  });

  it('refuses a mask without the liver label', () => {
    try {
      new LiverShapeSampler({ mask: lShapedMask(), labels: [9] });
      throw new Error('no error');
    } catch (error) {
      expect(isRtLiverError(error) && error.code).toBe('PHANTOM_EMPTY_LIVER_SHAPE');
    }
  });
});

describe('makeAbdomenPhantom with a liver shape', () => {
  it('draws the shape at the seed liver volume, on the patient\'s right, deterministically', () => {
    const shape = { mask: lShapedMask(), labels: [3], name: 'L' };
    const a = makeAbdomenPhantom({ seed: 4, ...SMALL, liverShape: shape });
    const b = makeAbdomenPhantom({ seed: 4, ...SMALL, liverShape: shape });
    const ellipsoid = makeAbdomenPhantom({ seed: 4, ...SMALL });
    expect(Buffer.from(a.liver.voxels.buffer).equals(Buffer.from(b.liver.voxels.buffer))).toBe(true);
    expect(Buffer.from(a.liver.voxels.buffer).equals(Buffer.from(ellipsoid.liver.voxels.buffer))).toBe(false);
    expect(a.liverPlacement).toBeDefined();
    const { ml, centroid } = liverStats(a.liver);
    expect(Math.abs(ml - a.anatomy.liverTargetMl) / a.anatomy.liverTargetMl).toBeLessThan(0.1);
    expect(centroid[0]).toBeLessThan(-20); // patient's right
    const placed = a.liverPlacement!.center;
    expect(Math.hypot(centroid[0] - placed[0], centroid[1] - placed[1], centroid[2] - placed[2])).toBeLessThan(25);
  });
});

describeWithSharedData('makeAbdomenPhantom with a CHAOS liver', ['mr', 'chaos-t2'], (folder) => {
  it('places a real manual liver label (MR) into the phantom at the target volume', () => {
    const mask = readNifti(readFileSync(join(folder, 'label_1.nii.gz')));
    const phantom = makeAbdomenPhantom({ seed: 7, ...SMALL, liverShape: { mask, labels: [1], name: 'chaos label_1' } });
    const { ml, centroid } = liverStats(phantom.liver);
    expect(Math.abs(ml - phantom.anatomy.liverTargetMl) / phantom.anatomy.liverTargetMl).toBeLessThan(0.1);
    expect(centroid[0]).toBeLessThan(-20);
  });
});
