/**
 * A mask made on a DICOM volume and written with writeNifti lands on the same world positions as the
 * source pixels: checked independently by nibabel (the NIfTI affine) and pydicom (the DICOM geometry) in
 * /usr/bin/python3. The mask marks voxels above an HU threshold; Python maps every mask voxel through
 * the NIfTI affine to LPS, finds the DICOM slice plane and pixel there, and checks that pixel is above
 * the threshold too, and that both sides count the same number of voxels.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInput } from '../../cli/src/io';
import { writeNifti } from '../../extension/src/core/nifti';
import { writeCtSeries } from '../../synthetic/ct-series-writer';
import type { Vec3, Volume } from '../../extension/src/core/volume';
import { describeWithSharedData } from '../support/shared-data';

const CHECK_MASK_AGAINST_DICOM = String.raw`
import json, os, sys
import numpy as np
import nibabel as nib
import pydicom
mask_path, folder, threshold = sys.argv[1], sys.argv[2], float(sys.argv[3])
image = nib.load(mask_path)
mask = np.asarray(image.dataobj)
slices = []
for root, _, names in os.walk(folder):
    for name in names:
        ds = pydicom.dcmread(os.path.join(root, name))
        if ds.SOPClassUID == '1.2.840.10008.5.1.4.1.1.2':
            slices.append(ds)
iop = np.array([float(v) for v in slices[0].ImageOrientationPatient])
row, col = iop[:3], iop[3:]
normal = np.cross(row, col)
column_spacing, row_spacing = float(slices[0].PixelSpacing[1]), float(slices[0].PixelSpacing[0])
planes = np.array([np.dot([float(v) for v in ds.ImagePositionPatient], normal) for ds in slices])
hu = [np.rint(ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)) for ds in slices]
dicom_count = int(sum((h > threshold).sum() for h in hu))
ijk = np.argwhere(mask > 0)
ras = (image.affine @ np.c_[ijk, np.ones(len(ijk))].T)[:3].T
lps = ras * np.array([-1.0, -1.0, 1.0])
worst_plane = worst_pixel = 0.0
below = 0
for point in lps:
    s = int(np.argmin(np.abs(planes - point @ normal)))
    worst_plane = max(worst_plane, abs(planes[s] - point @ normal))
    offset = point - np.array([float(v) for v in slices[s].ImagePositionPatient])
    c, r = offset @ row / column_spacing, offset @ col / row_spacing
    worst_pixel = max(worst_pixel, abs(c - round(c)), abs(r - round(r)))
    if hu[s][int(round(r)), int(round(c))] <= threshold:
        below += 1
print(json.dumps({"maskCount": int(len(ijk)), "dicomCount": dicom_count, "worstPlaneMm": worst_plane,
                  "worstPixelFraction": worst_pixel, "maskVoxelsNotAboveThreshold": below}))
`;

interface MaskCheck {
  maskCount: number;
  dicomCount: number;
  worstPlaneMm: number;
  worstPixelFraction: number;
  maskVoxelsNotAboveThreshold: number;
}

const workDir = mkdtempSync(join(tmpdir(), 'rt-liver-nifti-roundtrip-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Reads the DICOM folder, writes the mask HU > threshold as .nii.gz, and has Python check it. */
async function roundTrip(folder: string, threshold: number, name: string): Promise<MaskCheck> {
  const input = await loadInput(folder);
  if (input.kind !== 'dicom') throw new Error('expected DICOM');
  const { volume } = input;
  const mask: Volume<Uint8Array> = { ...volume, voxels: new Uint8Array(volume.voxels.length) };
  for (let index = 0; index < volume.voxels.length; index++) mask.voxels[index] = volume.voxels[index] > threshold ? 1 : 0;
  const path = join(workDir, `${name}.nii.gz`);
  writeFileSync(path, new Uint8Array(writeNifti(mask, { gzip: true, intent: 'label' })));
  const run = spawnSync('/usr/bin/python3', ['-c', CHECK_MASK_AGAINST_DICOM, path, folder, String(threshold)], { encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) throw new Error(`nibabel/pydicom check failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as MaskCheck;
}

function expectSameWorldPositions(check: MaskCheck): void {
  expect(check.maskCount).toBeGreaterThan(0);
  expect(check.maskCount).toBe(check.dicomCount);
  expect(check.maskVoxelsNotAboveThreshold).toBe(0);
  expect(check.worstPlaneMm).toBeLessThan(1e-3);
  expect(check.worstPixelFraction).toBeLessThan(1e-3);
}

function syntheticSeries(name: string, direction: [Vec3, Vec3, Vec3], spacing: Vec3, patientPosition = 'HFS'): string {
  const dimensions: Vec3 = [23, 38, 9];
  const voxels = new Int16Array(dimensions[0] * dimensions[1] * dimensions[2]);
  // An asymmetric blob: any flip or shift of the mask would move voxels off it.
  for (let k = 0; k < dimensions[2]; k++) {
    for (let j = 0; j < dimensions[1]; j++) {
      for (let i = 0; i < dimensions[0]; i++) {
        const inside = (i - 6) ** 2 / 25 + (j - 11) ** 2 / 64 + (k - 3) ** 2 / 9 < 1 || (i > 17 && j > 30 && k > 6);
        voxels[i + j * dimensions[0] + k * dimensions[0] * dimensions[1]] = inside ? 150 : -50;
      }
    }
  }
  const folder = join(workDir, name);
  mkdirSync(folder);
  const series = writeCtSeries({ voxels, dimensions, spacing, origin: [31.5, -12.25, 80], direction }, { seed: name, patientPosition, instanceNumbers: 'shuffled' });
  for (const file of series.files) writeFileSync(join(folder, file.name), new Uint8Array(file.bytes));
  return folder;
}

describe('mask to NIfTI lands on the source pixels (nibabel + pydicom)', () => {
  test('head first, odd matrix', async () => {
    const folder = syntheticSeries('head-first', [[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0.7, 0.9, 2.5]);
    expectSameWorldPositions(await roundTrip(folder, 100, 'head-first'));
  }, 60_000);

  test('feet first', async () => {
    const folder = syntheticSeries('feet-first', [[-1, 0, 0], [0, 1, 0], [0, 0, -1]], [0.8, 0.8, 3], 'FFS');
    expectSameWorldPositions(await roundTrip(folder, 100, 'feet-first'));
  }, 60_000);

  test('oblique', async () => {
    const c = Math.cos(0.4);
    const s = Math.sin(0.4);
    const folder = syntheticSeries('oblique', [[c, s, 0], [-s * 0.8, c * 0.8, 0.6], [s * 0.6, -c * 0.6, 0.8]], [0.7, 0.7, 2]);
    expectSameWorldPositions(await roundTrip(folder, 100, 'oblique'));
  }, 60_000);

  test('gantry tilt (sheared grid)', async () => {
    const tilt = (12 * Math.PI) / 180;
    const folder = syntheticSeries('tilted', [[1, 0, 0], [0, 1, 0], [0, Math.sin(tilt), Math.cos(tilt)]], [0.9, 0.9, 2.5 / Math.cos(tilt)]);
    expectSameWorldPositions(await roundTrip(folder, 100, 'tilted'));
  }, 60_000);
});

describeWithSharedData('mask to NIfTI on a real CT (crlm-ct-1004)', ['ct', 'crlm-ct-1004', 'dicom'], (folder) => {
  test('bone mask (HU > 300) lands on the same pixels in nibabel + pydicom', async () => {
    expectSameWorldPositions(await roundTrip(folder, 300, 'crlm-ct-1004'));
  }, 300_000);
});
