/**
 * scripts/generate-data.ts parts: the demo study (DICOM CT + liver mask) and the MSD-layout training
 * set, generated into a temporary var/ folder and read back with the project's own DICOM and NIfTI
 * readers (their geometry must agree with each other and with the phantom).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDicomSeries } from '../../extension/src/core/dicom';
import { readNifti, readNiftiDetailed } from '../../extension/src/core/nifti';
import { indexToWorld } from '../../extension/src/core/volume';
import { makeAbdomenPhantom } from '../../synthetic/phantom';
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

  it('puts the liver mask on the CT, as pydicom and nibabel see them independently', () => {
    const paths = demoStudyPaths(varDir);
    const script = `
import glob, json, sys
import numpy as np, pydicom, nibabel as nib
series_dir, mask_path = sys.argv[1], sys.argv[2]
slices = [pydicom.dcmread(f) for f in glob.glob(series_dir + '/*.dcm')]
row, col = np.array(slices[0].ImageOrientationPatient[:3], float), np.array(slices[0].ImageOrientationPatient[3:], float)
normal = np.cross(row, col)
slices.sort(key=lambda s: float(np.dot(normal, np.array(s.ImagePositionPatient, float))))
ct = np.stack([s.pixel_array * float(s.RescaleSlope) + float(s.RescaleIntercept) for s in slices])  # [k, j, i]
first, last = (np.array(s.ImagePositionPatient, float) for s in (slices[0], slices[-1]))
dr, dc = (float(v) for v in slices[0].PixelSpacing)  # row spacing (along j), column spacing (along i)
lps = np.eye(4)
lps[:3, 0], lps[:3, 1], lps[:3, 2], lps[:3, 3] = row * dc, col * dr, (last - first) / (len(slices) - 1), first
ras_from_dicom = np.diag([-1, -1, 1, 1]) @ lps
mask_img = nib.load(mask_path)
mask = np.asanyarray(mask_img.dataobj).transpose(2, 1, 0)  # nibabel [i, j, k] -> [k, j, i]
print(json.dumps({'affine_error': float(np.abs(mask_img.affine - ras_from_dicom).max()),
                  'shape_ct': list(ct.shape), 'shape_mask': list(mask.shape),
                  'liver_hu': float(ct[mask > 0].mean()), 'outside_hu': float(ct[mask == 0].mean()),
                  'liver_ml': float(mask.sum() * abs(np.linalg.det(mask_img.affine[:3, :3])) / 1000)}))
`;
    const run = spawnSync('/usr/bin/python3', ['-c', script, paths.seriesDir, paths.liverMask], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`pydicom/nibabel check failed (run scripts/setup.sh): ${run.stderr}`);
    const seen = JSON.parse(run.stdout);
    expect(seen.affine_error).toBeLessThan(1e-3);
    expect(seen.shape_ct).toEqual(seen.shape_mask);
    expect(seen.liver_hu).toBeGreaterThan(40); // contrast-enhanced liver under the mask
    expect(seen.liver_hu).toBeLessThan(110);
    expect(seen.outside_hu).toBeLessThan(-300); // mostly air and fat elsewhere
    expect(seen.liver_ml).toBeCloseTo(readDemoStudyInfo(varDir)!.liverVolumeMl, 0);
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
      // Each case has its own field of view (voxel size and centre), recorded in dataset.json.
      const grid = dataset.rtLiver.cases[index];
      ct.spacing.forEach((s, a) => expect(s).toBeCloseTo(grid.spacing[a], 4));
      expect(grid.spacing[0]).toBeGreaterThanOrEqual(5.7 * 0.9);
      expect(grid.spacing[0]).toBeLessThanOrEqual(5.7 * 1.1);
      expect(indexToWorld(ct, [31.5, 31.5, 11.5])[2]).toBeCloseTo(grid.center[2], 3);
      expect(new Set(liver.volume.voxels)).toEqual(new Set([0, 1]));
    }
    expect(dataset.rtLiver.cases[0].spacing).not.toEqual(dataset.rtLiver.cases[1].spacing);
    // Different seeds: the two cases differ.
    expect(readFileSync(msdCasePaths(root, 0).image).equals(readFileSync(msdCasePaths(root, 1).image))).toBe(false);
    expect(generateMsdDataset(root, { ...options, count: 3 })).toEqual({ written: 1, kept: 2 });
    expect(JSON.parse(readFileSync(join(root, 'dataset.json'), 'utf8')).numTraining).toBe(3);
    // Another grid (or phantom version) makes the set stale: it is made again, not mixed.
    expect(generateMsdDataset(root, { ...options, count: 1, dimensions: [48, 48, 16] })).toEqual({ written: 1, kept: 0 });
    expect(readNifti(readFileSync(msdCasePaths(root, 0).image)).dimensions).toEqual([48, 48, 16]);
    expect(existsSync(msdCasePaths(root, 1).image)).toBe(false);
    // Cases without a rule file (an interrupted run of an older generator) are not trusted either.
    rmSync(join(root, 'rt-liver-rule.json'));
    expect(generateMsdDataset(root, { ...options, count: 1, dimensions: [48, 48, 16] })).toEqual({ written: 1, kept: 0 });
  });
});
