/** Input discovery: folders walked recursively, single files, NIfTI told apart, clear errors for bad paths. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCtSeries } from '../../../synthetic/ct-series-writer';
import type { Volume } from '../../../extension/src/core/volume';
import { isNiftiPath, listFilesRecursively, loadInput } from './index';

const root = mkdtempSync(join(tmpdir(), 'rt-liver-io-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function smallVolume(): Volume<Int16Array> {
  const voxels = new Int16Array(6 * 5 * 4).map((_, index) => index - 60);
  return { voxels, dimensions: [6, 5, 4], spacing: [1, 1, 2], origin: [0, 0, 0], direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };
}

test('a study folder is walked recursively; hidden files are ignored, other files noted', async () => {
  const study = join(root, 'study');
  const source = smallVolume();
  const files = writeCtSeries(source, { seed: 'io' }).files;
  files.forEach((file, k) => {
    const folder = join(study, k % 2 ? 'a' : join('b', 'deeper'));
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, file.name), new Uint8Array(file.bytes));
  });
  writeFileSync(join(study, '.DS_Store'), 'junk');
  writeFileSync(join(study, 'report.pdf'), '%PDF-1.4 not an image');
  expect(listFilesRecursively(study)).not.toContain('.DS_Store');
  const input = await loadInput(study);
  if (input.kind !== 'dicom') throw new Error('expected DICOM');
  expect(input.fileCount).toBe(5);
  expect(Array.from(input.volume.voxels)).toEqual(Array.from(source.voxels));
  expect(input.warnings).toEqual(['Ignored 1 file(s) that are not DICOM images: report.pdf.']);
  expect(input.slices[0].fileName).toMatch(/^(a|b\/deeper)\/CT000\d\.dcm$/);
  expect(input.timingsMs.buildVolumeMs).toBeGreaterThan(0);
});

test('a single DICOM file is read as a one-file input (and refused as a one-slice volume)', async () => {
  const file = writeCtSeries(smallVolume(), { seed: 'single' }).files[0];
  const path = join(root, 'single.dcm');
  writeFileSync(path, new Uint8Array(file.bytes));
  await expect(loadInput(path)).rejects.toMatchObject({ code: 'DICOM_SINGLE_SLICE', hint: expect.stringMatching(/Pass the folder/) });
});

test('an empty folder, a missing path and a folder of NIfTI files get specific errors', async () => {
  const empty = join(root, 'empty');
  mkdirSync(empty);
  await expect(loadInput(empty)).rejects.toMatchObject({ code: 'INPUT_EMPTY_FOLDER', hint: expect.stringMatching(/DICOM|nii/) });
  await expect(loadInput(join(root, 'nowhere'))).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' });
  const niftiFolder = join(root, 'nifti');
  mkdirSync(niftiFolder);
  writeFileSync(join(niftiFolder, 'ct.nii.gz'), 'x');
  await expect(loadInput(niftiFolder)).rejects.toMatchObject({ code: 'INPUT_FOLDER_OF_NIFTI', message: expect.stringContaining('ct.nii.gz') });
});

test('NIfTI is recognised by its extension', () => {
  expect(isNiftiPath('a/b/ct.nii.gz')).toBe(true);
  expect(isNiftiPath('CT.NII')).toBe(true);
  expect(isNiftiPath('ct.dcm')).toBe(false);
  expect(isNiftiPath('nii.gz.dcm')).toBe(false);
});

test('a .nii.gz file is read through the NIfTI reader; its errors name the file', async () => {
  const { writeNifti } = await import('../../../extension/src/core/nifti');
  const source = smallVolume();
  const path = join(root, 'ct.nii.gz');
  writeFileSync(path, new Uint8Array(writeNifti(source, { gzip: true })));
  const input = await loadInput(path);
  expect(input.kind).toBe('nifti');
  expect(Array.from(input.volume.voxels)).toEqual(Array.from(source.voxels));
  expect(input.volume.dimensions).toEqual([6, 5, 4]);
  const broken = join(root, 'broken.nii');
  writeFileSync(broken, new Uint8Array(100));
  await expect(loadInput(broken)).rejects.toMatchObject({ code: 'NIFTI_TRUNCATED', message: expect.stringContaining('broken.nii:') });
});

test('a DICOM media folder (DICOMDIR made by dcmmkdir) reads its images and notes the DICOMDIR', async () => {
  const media = join(root, 'media');
  mkdirSync(join(media, 'IMG'), { recursive: true });
  const source = smallVolume();
  writeCtSeries(source, { seed: 'media', instanceNumbers: 'shuffled' }).files.forEach((file, k) => {
    writeFileSync(join(media, 'IMG', `IM${k + 1}`), new Uint8Array(file.bytes));
  });
  execFileSync('dcmmkdir', ['--recurse', 'IMG'], { cwd: media, stdio: 'pipe' });
  const input = await loadInput(media);
  if (input.kind !== 'dicom') throw new Error('expected DICOM');
  expect(Array.from(input.volume.voxels)).toEqual(Array.from(source.voxels));
  expect(input.warnings).toEqual(['Ignored 1 file(s) that are not DICOM images: DICOMDIR.']);
});
