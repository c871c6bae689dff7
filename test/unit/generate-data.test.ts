/**
 * scripts/generate-data.ts parts: the demo study (DICOM CT + liver mask) and the MSD-layout training
 * set, generated into a temporary var/ folder and read back with the project's own DICOM and NIfTI
 * readers (their geometry must agree with each other and with the phantom).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDicomSeries } from '../../extension/src/core/dicom';
import { readNifti, readNiftiDetailed } from '../../extension/src/core/nifti';
import { makeAbdomenPhantom } from '../../extension/src/core/synthetic/phantom';
import { DEMO_SEED, demoStudyPaths, ensureDemoStudy, readDemoStudyInfo } from '../../scripts/data/demo-study';
import { generateMsdDataset, msdCasePaths } from '../../scripts/data/msd-dataset';

jest.setTimeout(120000);

let varDir: string;
beforeAll(() => {
  varDir = mkdtempSync(join(tmpdir(), 'rt-liver-var-'));
});
afterAll(() => rmSync(varDir, { recursive: true, force: true }));

describe('demo study', () => {
  it('writes phantom seed 1 as a DICOM CT series whose grid and HU match the phantom and its liver mask', async () => {
    expect(readDemoStudyInfo(varDir)).toBeUndefined();
    // A lock left behind by a generator that died (a pid above Linux's pid_max) must not block us.
    mkdirSync(join(varDir, 'studies'), { recursive: true });
    writeFileSync(join(varDir, 'studies', '.phantom.lock'), '4194305');
    const info = ensureDemoStudy(varDir);
    expect(existsSync(join(varDir, 'studies', '.phantom.lock'))).toBe(false);
    const paths = demoStudyPaths(varDir);
    expect(info.seed).toBe(DEMO_SEED);
    expect(readdirSync(paths.seriesDir).sort()).toEqual([...info.files].sort());
    expect(info.files).toHaveLength(96);

    const files = info.files.map((name) => ({ name, bytes: readFileSync(join(paths.seriesDir, name)) }));
    const { volume, series } = await readDicomSeries(files);
    expect(series.studyInstanceUID).toBe(info.studyInstanceUID);
    expect(series.seriesInstanceUID).toBe(info.seriesInstanceUID);
    const phantom = makeAbdomenPhantom({ seed: DEMO_SEED });
    expect(Buffer.from(volume.voxels.buffer, volume.voxels.byteOffset, volume.voxels.byteLength)
      .equals(Buffer.from(phantom.ct.voxels.buffer))).toBe(true);

    const mask = readNifti(readFileSync(paths.liverMask));
    for (const geometry of [volume, mask]) {
      expect(geometry.dimensions).toEqual([256, 256, 96]);
      geometry.spacing.forEach((s, a) => expect(s).toBeCloseTo(phantom.ct.spacing[a], 5));
      geometry.origin.forEach((o, a) => expect(o).toBeCloseTo(phantom.ct.origin[a], 3));
      geometry.direction.forEach((axis, a) => axis.forEach((v, r) => expect(v).toBeCloseTo(phantom.ct.direction[a][r], 6)));
    }
    expect(Buffer.from(mask.voxels.buffer).equals(Buffer.from(phantom.liver.voxels.buffer))).toBe(true);
    expect(info.liverVolumeMl).toBeGreaterThan(1200);
    expect(info.liverVolumeMl).toBeLessThan(2000);
  });

  it('keeps an existing study (idempotent) but not one from another phantom version', () => {
    const paths = demoStudyPaths(varDir);
    const before = statSync(paths.info).mtimeMs;
    const firstFile = join(paths.seriesDir, readdirSync(paths.seriesDir)[0]);
    const fileBefore = statSync(firstFile).mtimeMs;
    const info = ensureDemoStudy(varDir);
    expect(statSync(paths.info).mtimeMs).toBe(before);
    expect(statSync(firstFile).mtimeMs).toBe(fileBefore);
    expect(info.files).toHaveLength(96);
    const stale = { ...info, phantomVersion: info.phantomVersion - 1 };
    writeFileSync(paths.info, JSON.stringify(stale));
    expect(readDemoStudyInfo(varDir)).toBeUndefined();
  });
});

describe('MSD training set', () => {
  it('writes imagesTr/labelsTr pairs and a dataset.json, keeping existing cases on a re-run', () => {
    const root = join(varDir, 'datasets', 'phantom-msd');
    const options = { count: 2, dimensions: [64, 64, 24] as [number, number, number], spacing: [5.7, 5.7, 10] as [number, number, number] };
    expect(generateMsdDataset(root, options)).toEqual({ written: 2, kept: 0 });
    const dataset = JSON.parse(readFileSync(join(root, 'dataset.json'), 'utf8'));
    expect(dataset.numTraining).toBe(2);
    expect(dataset.labels).toEqual({ 0: 'background', 1: 'liver' });
    expect(dataset.training[1]).toEqual({ image: './imagesTr/liver_1.nii.gz', label: './labelsTr/liver_1.nii.gz' });
    for (let index = 0; index < 2; index++) {
      const { image, label } = msdCasePaths(root, index);
      const ct = readNifti(readFileSync(image));
      const liver = readNiftiDetailed(readFileSync(label));
      expect(ct.voxels).toBeInstanceOf(Int16Array);
      expect(ct.dimensions).toEqual([64, 64, 24]);
      expect(liver.volume.dimensions).toEqual(ct.dimensions);
      expect(liver.volume.origin).toEqual(ct.origin);
      expect(new Set(liver.volume.voxels)).toEqual(new Set([0, 1]));
    }
    // Different seeds: the two cases differ.
    expect(readFileSync(msdCasePaths(root, 0).image).equals(readFileSync(msdCasePaths(root, 1).image))).toBe(false);
    expect(generateMsdDataset(root, { ...options, count: 3 })).toEqual({ written: 1, kept: 2 });
    expect(JSON.parse(readFileSync(join(root, 'dataset.json'), 'utf8')).numTraining).toBe(3);
    // Another grid (or phantom version) makes the set stale: it is made again, not mixed.
    expect(generateMsdDataset(root, { ...options, count: 1, dimensions: [48, 48, 16] })).toEqual({ written: 1, kept: 0 });
    expect(readNifti(readFileSync(msdCasePaths(root, 0).image)).dimensions).toEqual([48, 48, 16]);
    expect(existsSync(msdCasePaths(root, 1).image)).toBe(false);
  });
});
