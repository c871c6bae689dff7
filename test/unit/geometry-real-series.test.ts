/**
 * Real CT series from ../shared/data read by the core, and checked against an independent reading with
 * pydicom (/usr/bin/python3): the script below sorts slices by their own projection on the normal and
 * computes spacing, origin and per-slice HU sums without any of our code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInput } from '../../cli/src/io';
import { describeWithSharedData } from '../support/shared-data';

const PYDICOM_GEOMETRY = String.raw`
import json, sys, os
import numpy as np
import pydicom
folder = sys.argv[1]
slices = []
for root, _, names in os.walk(folder):
    for name in names:
        ds = pydicom.dcmread(os.path.join(root, name))
        if ds.SOPClassUID != '1.2.840.10008.5.1.4.1.1.2':
            continue
        slices.append(ds)
iop = np.array([float(v) for v in slices[0].ImageOrientationPatient])
row, col = iop[:3] / np.linalg.norm(iop[:3]), iop[3:] / np.linalg.norm(iop[3:])
normal = np.cross(row, col)
slices.sort(key=lambda ds: float(np.dot([float(v) for v in ds.ImagePositionPatient], normal)))
positions = np.array([[float(v) for v in ds.ImagePositionPatient] for ds in slices])
steps = np.diff(positions @ normal)
hu_sums = []
for ds in slices:
    hu = np.rint(ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept))
    hu_sums.append(int(hu.sum()))
print(json.dumps({
    "dimensions": [int(slices[0].Columns), int(slices[0].Rows), len(slices)],
    "spacing": [float(slices[0].PixelSpacing[1]), float(slices[0].PixelSpacing[0]), float(np.median(steps))],
    "origin": positions[0].tolist(),
    "row": row.tolist(), "column": col.tolist(), "normal": normal.tolist(),
    "sopInstanceUIDs": [str(ds.SOPInstanceUID) for ds in slices],
    "huSums": hu_sums,
    "firstVoxelHu": [int(np.rint(float(ds.pixel_array[0, 0]) * float(ds.RescaleSlope) + float(ds.RescaleIntercept))) for ds in slices[:1]],
}))
`;

interface PydicomGeometry {
  dimensions: number[];
  spacing: number[];
  origin: number[];
  row: number[];
  column: number[];
  normal: number[];
  sopInstanceUIDs: string[];
  huSums: number[];
}

function pydicomGeometry(folder: string): PydicomGeometry {
  const run = spawnSync('/usr/bin/python3', ['-c', PYDICOM_GEOMETRY, folder], { encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`pydicom reference failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as PydicomGeometry;
}

const SERIES = [
  ['crlm-ct-1004', 'dicom', 41],
  ['crlm-ct-1006', 'dicom', 51],
  ['pancreas-ct-cb-001', 'dicom', 79],
  ['dcmqi-3slice', join('segmentations', 'ct-3slice'), 3],
  ['dcmqi-3slice', join('segmentations', '23x38x3', 'image'), 3],
] as const;

for (const [name, subfolder, sliceCount] of SERIES) {
  describeWithSharedData(`real CT series ${name}/${subfolder}`, ['ct', name, subfolder], (folder) => {
    test('geometry, slice order and HU match an independent pydicom reading', async () => {
      const reference = pydicomGeometry(folder);
      const input = await loadInput(folder);
      if (input.kind !== 'dicom') throw new Error('expected a DICOM input');
      const { volume, slices } = input;
      expect(volume.dimensions).toEqual(reference.dimensions);
      expect(volume.dimensions[2]).toBe(sliceCount);
      for (let axis = 0; axis < 3; axis++) {
        expect(volume.spacing[axis]).toBeCloseTo(reference.spacing[axis], 4);
        expect(volume.origin[axis]).toBeCloseTo(reference.origin[axis], 6);
        expect(volume.direction[0][axis]).toBeCloseTo(reference.row[axis], 9);
        expect(volume.direction[1][axis]).toBeCloseTo(reference.column[axis], 9);
        expect(volume.direction[2][axis]).toBeCloseTo(reference.normal[axis], 9);
      }
      expect(slices.map((slice) => slice.sopInstanceUID)).toEqual(reference.sopInstanceUIDs);
      const sliceSize = volume.dimensions[0] * volume.dimensions[1];
      const huSums = reference.huSums.map((_, k) => volume.voxels.subarray(k * sliceSize, (k + 1) * sliceSize).reduce((sum, hu) => sum + hu, 0));
      expect(huSums).toEqual(reference.huSums);
      expect(input.warnings).toEqual([]);
    }, 120_000);
  });
}

describeWithSharedData('a study folder with CT and RTSTRUCT', ['ct', 'pancreas-ct-cb-001'], (folder) => {
  test('the CT series is chosen and the RTSTRUCT left aside', async () => {
    const input = await loadInput(folder);
    if (input.kind !== 'dicom') throw new Error('expected a DICOM input');
    expect(input.volume.dimensions[2]).toBe(79);
    expect(input.fileCount).toBeGreaterThanOrEqual(80);
  }, 60_000);
});

describeWithSharedData('an Enhanced (multi-frame) CT image', ['ct', 'dcmqi-3slice', 'segmentations', '23x38x3'], (folder) => {
  test('reads per-frame positions from its functional groups: same grid and HU as the classic images it was converted from', async () => {
    const multiFrame = await loadInput(join(folder, 'multiframe', 'mf.dcm'));
    const classic = await loadInput(join(folder, 'image'));
    if (multiFrame.kind !== 'dicom' || classic.kind !== 'dicom') throw new Error('expected DICOM inputs');
    expect(multiFrame.volume.dimensions).toEqual([23, 38, 3]);
    expect(multiFrame.volume.origin).toEqual(classic.volume.origin);
    expect(multiFrame.volume.spacing).toEqual(classic.volume.spacing);
    expect(multiFrame.volume.direction).toEqual(classic.volume.direction);
    expect(Array.from(multiFrame.volume.voxels)).toEqual(Array.from(classic.volume.voxels));
    expect(multiFrame.slices.map((slice) => slice.frameNumber)).toEqual([1, 2, 3]);
    expect(multiFrame.slices.map((slice) => slice.imagePositionPatient[2])).toEqual([-177.75, -175.25, -172.75]);
  });

  test('the multi-frame image transcoded (implicit VR, RLE, JPEG-LS, JPEG 2000) reads to the same volume', async () => {
    const original = join(folder, 'multiframe', 'mf.dcm');
    const reference = await loadInput(original);
    const workDir = mkdtempSync(join(tmpdir(), 'rt-liver-multiframe-'));
    try {
      for (const [tool, args] of [['dcmconv', ['+ti']], ['dcmcrle', []], ['dcmcjpls', []], ['gdcmconv', ['--j2k']]] as const) {
        const target = join(workDir, `${tool}.dcm`);
        execFileSync(tool, [...args, original, target]);
        const transcoded = await loadInput(target);
        expect(transcoded.volume.origin).toEqual(reference.volume.origin);
        expect(Array.from(transcoded.volume.voxels)).toEqual(Array.from(reference.volume.voxels));
      }
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
