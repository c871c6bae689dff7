import { indexToWorld, voxelVolumeMl } from '../extension/src/core/volume';
import { PHANTOM_LABELS, makeAbdomenPhantom } from './phantom';

// A smaller grid than the demo keeps the suite quick; the demo size is timed once below.
const SMALL = { dimensions: [128, 128, 48] as [number, number, number], spacing: [2.8, 2.8, 5] as [number, number, number] };

function statsByLabel(ct: Int16Array, labels: Uint8Array) {
  const stats = new Map<number, { count: number; sum: number; min: number; max: number }>();
  for (let p = 0; p < ct.length; p++) {
    const entry = stats.get(labels[p]) ?? { count: 0, sum: 0, min: Infinity, max: -Infinity };
    entry.count++;
    entry.sum += ct[p];
    entry.min = Math.min(entry.min, ct[p]);
    entry.max = Math.max(entry.max, ct[p]);
    stats.set(labels[p], entry);
  }
  return stats;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

describe('makeAbdomenPhantom', () => {
  it('is deterministic from the seed, and different seeds give different patients', () => {
    const a = makeAbdomenPhantom({ seed: 7, ...SMALL });
    const b = makeAbdomenPhantom({ seed: 7, ...SMALL });
    const c = makeAbdomenPhantom({ seed: 8, ...SMALL });
    expect(Buffer.from(a.ct.voxels.buffer).equals(Buffer.from(b.ct.voxels.buffer))).toBe(true);
    expect(Buffer.from(a.labels.voxels.buffer).equals(Buffer.from(b.labels.voxels.buffer))).toBe(true);
    expect(Buffer.from(a.ct.voxels.buffer).equals(Buffer.from(c.ct.voxels.buffer))).toBe(false);
    expect(Buffer.from(a.liver.voxels.buffer).equals(Buffer.from(c.liver.voxels.buffer))).toBe(false);
  });

  it('shares one geometry between CT, labels and liver mask, centred on the field of view', () => {
    const { ct, labels, liver } = makeAbdomenPhantom({ seed: 1, ...SMALL });
    for (const volume of [labels, liver]) {
      expect(volume.dimensions).toEqual(ct.dimensions);
      expect(volume.spacing).toEqual(ct.spacing);
      expect(volume.origin).toEqual(ct.origin);
      expect(volume.direction).toEqual(ct.direction);
    }
    expect(ct.voxels).toHaveLength(128 * 128 * 48);
    const centre = indexToWorld(ct, [63.5, 63.5, 23.5]);
    centre.forEach((value) => expect(Math.abs(value)).toBeLessThan(1e-9));
  });

  it('gives each label plausible Hounsfield units', () => {
    const { ct, labels } = makeAbdomenPhantom({ seed: 2, ...SMALL });
    const stats = statsByLabel(ct.voxels, labels.voxels);
    const mean = (label: number) => {
      const entry = stats.get(label);
      if (!entry) throw new Error(`label ${label} is missing`);
      return entry.sum / entry.count;
    };
    for (const label of Object.values(PHANTOM_LABELS)) expect(stats.get(label)?.count ?? 0).toBeGreaterThan(0);
    expect(mean(PHANTOM_LABELS.liver)).toBeGreaterThan(45);
    expect(mean(PHANTOM_LABELS.liver)).toBeLessThan(95); // parenchyma ~60 with brighter vessels inside
    expect(mean(PHANTOM_LABELS.spleen)).toBeGreaterThan(30);
    expect(mean(PHANTOM_LABELS.spleen)).toBeLessThan(75);
    for (const kidney of [PHANTOM_LABELS.rightKidney, PHANTOM_LABELS.leftKidney]) {
      expect(mean(kidney)).toBeGreaterThan(-10);
      expect(mean(kidney)).toBeLessThan(50);
    }
    expect(mean(PHANTOM_LABELS.aorta)).toBeGreaterThan(120);
    expect(mean(PHANTOM_LABELS.bone)).toBeGreaterThan(300);
    expect(stats.get(PHANTOM_LABELS.bone)!.max).toBeLessThanOrEqual(1100);
    expect(stats.get(PHANTOM_LABELS.stomach)!.min).toBeLessThan(-500); // a gas cap
    expect(stats.get(PHANTOM_LABELS.background)!.min).toBeLessThan(-900); // air around the body
    // Liver vessels are brighter than the parenchyma: the brightest liver voxels exceed 120 HU.
    expect(stats.get(PHANTOM_LABELS.liver)!.max).toBeGreaterThan(120);
  });

  it('varies the enhancement phase on request, keeping the anatomy', () => {
    const meanOf = (ct: Int16Array, labels: Uint8Array, label: number) => {
      let sum = 0;
      let count = 0;
      for (let p = 0; p < ct.length; p++) if (labels[p] === label) { sum += ct[p]; count++; }
      return sum / count;
    };
    const unenhanced = makeAbdomenPhantom({ seed: 5, ...SMALL, contrastPhase: 'unenhanced' });
    const venous = makeAbdomenPhantom({ seed: 5, ...SMALL, contrastPhase: 'portal-venous' });
    expect(Buffer.from(unenhanced.labels.voxels.buffer).equals(Buffer.from(venous.labels.voxels.buffer))).toBe(true);
    expect(meanOf(unenhanced.ct.voxels, unenhanced.labels.voxels, PHANTOM_LABELS.aorta)).toBeLessThan(70);
    expect(meanOf(venous.ct.voxels, venous.labels.voxels, PHANTOM_LABELS.aorta)).toBeGreaterThan(120);
    expect(meanOf(venous.ct.voxels, venous.labels.voxels, PHANTOM_LABELS.liver)).toBeGreaterThan(90);
    expect(meanOf(unenhanced.ct.voxels, unenhanced.labels.voxels, PHANTOM_LABELS.liver)).toBeLessThan(70);
    const phases = new Set([10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map((seed) =>
      Math.round(makeAbdomenPhantom({ seed, dimensions: [32, 32, 12], spacing: [11, 11, 20], contrastPhase: 'mixed', noiseSigma: 0 }).anatomy.hu.aorta / 60)));
    expect(phases.size).toBeGreaterThan(1); // 'mixed' gives more than one phase over ten seeds
  });

  it('draws hypodense lesions inside the liver that keep the liver label', () => {
    const { ct, liver, anatomy } = makeAbdomenPhantom({ seed: 1, ...SMALL });
    expect(anatomy.liverLesions.length).toBeGreaterThan(0);
    const largest = [...anatomy.liverLesions].sort((a, b) => b.radii[0] - a.radii[0])[0];
    const [nx, ny, nz] = ct.dimensions;
    const inLesion: number[] = [];
    let liverSum = 0;
    let liverCount = 0;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const p = i + j * nx + k * nx * ny;
          if (!liver.voxels[p]) continue;
          liverSum += ct.voxels[p];
          liverCount++;
          const [x, y, z] = indexToWorld(ct, [i, j, k]);
          const r = Math.hypot(x - largest.center[0], y - largest.center[1], z - largest.center[2]);
          if (r < 0.5 * largest.radii[0]) inLesion.push(ct.voxels[p]);
        }
      }
    }
    expect(inLesion.length).toBeGreaterThan(0); // the lesion core is labelled liver
    expect(median(inLesion)).toBeLessThan(liverSum / liverCount - 15);
  });

  it('puts lung bases above the liver', () => {
    const { ct, liver } = makeAbdomenPhantom({ seed: 3, ...SMALL });
    const [nx, ny, nz] = ct.dimensions;
    const top = nz - 1;
    let lung = 0;
    for (let p = top * nx * ny; p < (top + 1) * nx * ny; p++) if (ct.voxels[p] < -700 && ct.voxels[p] > -950) lung++;
    expect(lung * ct.spacing[0] * ct.spacing[1]).toBeGreaterThan(5000); // > 50 cm^2 of lung in the top slice
    let highestLiverSlice = -1;
    for (let k = 0; k < nz; k++) {
      for (let p = k * nx * ny; p < (k + 1) * nx * ny; p++) if (liver.voxels[p]) highestLiverSlice = k;
    }
    expect(highestLiverSlice).toBeLessThan(top);
  });

  it("places the liver on the patient's right (low i in LPS) with a left lobe across the midline", () => {
    for (const seed of [1, 4, 9]) {
      const { liver } = makeAbdomenPhantom({ seed, ...SMALL });
      const [nx] = liver.dimensions;
      let right = 0;
      let left = 0;
      let sumX = 0;
      for (let p = 0; p < liver.voxels.length; p++) {
        if (!liver.voxels[p]) continue;
        const i = p % nx;
        const x = indexToWorld(liver, [i, 0, 0])[0];
        sumX += x;
        if (x < 0) right++;
        else left++;
      }
      const count = right + left;
      expect(sumX / count).toBeLessThan(-30); // centroid well to the patient's right (LPS x < 0)
      expect(right / count).toBeGreaterThan(0.75);
      expect(left).toBeGreaterThan(0.02 * count); // the left lobe crosses the midline
    }
  });

  it('has a plausible liver volume (1.2 to 2.0 L) over many seeds', () => {
    for (let seed = 10; seed < 18; seed++) {
      const { liver } = makeAbdomenPhantom({ seed, ...SMALL, noiseSigma: 0 });
      let count = 0;
      for (const value of liver.voxels) count += value;
      const ml = count * voxelVolumeMl(liver);
      expect(ml).toBeGreaterThan(1200);
      expect(ml).toBeLessThan(2000);
    }
  });

  it('builds the 256x256x96 demo volume in seconds', () => {
    const times: number[] = [];
    for (let run = 0; run < 3; run++) {
      const start = performance.now();
      const { ct } = makeAbdomenPhantom({ seed: 1 });
      times.push(performance.now() - start);
      expect(ct.dimensions).toEqual([256, 256, 96]);
      expect(ct.spacing).toEqual([1.4, 1.4, 2.5]);
    }
    // Measured about 1.2 s here; the bound only catches a regression to minutes.
    expect(median(times)).toBeLessThan(15000);
  });
});
