import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dicomParser from 'dicom-parser';
import { indexToWorld, type Vec3, type Volume } from '../extension/src/core/volume';
import { CT_IMAGE_STORAGE, EXPLICIT_VR_LITTLE_ENDIAN, formatDecimalString, writeCtSeries } from './ct-series-writer';

function rampVolume(dimensions: Vec3, direction: [Vec3, Vec3, Vec3], spacing: Vec3 = [0.7, 0.8, 2.5]): Volume<Int16Array> {
  const [nx, ny, nz] = dimensions;
  const voxels = new Int16Array(nx * ny * nz);
  // A distinct value per voxel (within int16 and above -1024) so any transposition or flip shows.
  for (let p = 0; p < voxels.length; p++) voxels[p] = (p % 4000) - 1000;
  return { voxels, dimensions, spacing, origin: [-12.5, 30.25, -100], direction };
}

const AXIAL: [Vec3, Vec3, Vec3] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];

function parse(bytes: ArrayBuffer): dicomParser.DataSet {
  return dicomParser.parseDicom(new Uint8Array(bytes));
}

function numbers(dataSet: dicomParser.DataSet, tag: string): number[] {
  return (dataSet.string(tag) ?? '').split('\\').map(Number);
}

function storedPixels(dataSet: dicomParser.DataSet, signed: boolean): Int16Array | Uint16Array {
  const element = dataSet.elements.x7fe00010;
  const bytes = dataSet.byteArray.slice(element.dataOffset, element.dataOffset + element.length);
  return signed ? new Int16Array(bytes.buffer) : new Uint16Array(bytes.buffer);
}

function expectClose(actual: number[], expected: number[], tolerance = 1e-6): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, index) => expect(Math.abs(value - expected[index])).toBeLessThan(tolerance));
}

describe('writeCtSeries', () => {
  it('writes one CT Image Storage file per slice with the volume geometry and pixels', () => {
    const volume = rampVolume([23, 38, 5], AXIAL);
    const series = writeCtSeries(volume, { seed: 'geometry', seriesDescription: 'Odd size' });
    expect(series.files).toHaveLength(5);
    series.files.forEach((file, k) => {
      const ds = parse(file.bytes);
      expect(ds.string('x00020010')).toBe(EXPLICIT_VR_LITTLE_ENDIAN);
      expect(ds.string('x00080016')).toBe(CT_IMAGE_STORAGE);
      expect(ds.string('x00080018')).toBe(file.sopInstanceUID);
      expect(ds.string('x00020003')).toBe(file.sopInstanceUID);
      expect(ds.string('x0020000d')).toBe(series.studyInstanceUID);
      expect(ds.string('x0020000e')).toBe(series.seriesInstanceUID);
      expect(ds.string('x00200052')).toBe(series.frameOfReferenceUID);
      expect(ds.string('x0008103e')).toBe('Odd size');
      expect(ds.uint16('x00280010')).toBe(38); // Rows = ny
      expect(ds.uint16('x00280011')).toBe(23); // Columns = nx
      expect(numbers(ds, 'x00280030')).toEqual([0.8, 0.7]); // [row spacing (j), column spacing (i)]
      expect(numbers(ds, 'x00180050')).toEqual([2.5]);
      expectClose(numbers(ds, 'x00200032'), indexToWorld(volume, [0, 0, k]));
      expectClose(numbers(ds, 'x00200037'), [1, 0, 0, 0, 1, 0]);
      expect(ds.uint16('x00280103')).toBe(1);
      expect(Number(ds.string('x00281052'))).toBe(0);
      const pixels = storedPixels(ds, true);
      expect(Array.from(pixels)).toEqual(Array.from(volume.voxels.subarray(k * 23 * 38, (k + 1) * 23 * 38)));
    });
  });

  it('stores unsigned pixels with RescaleIntercept -1024 that rescale back to the same HU', () => {
    const volume = rampVolume([16, 12, 3], AXIAL);
    const series = writeCtSeries(volume, { pixelStorage: 'uint16-intercept-1024' });
    const ds = parse(series.files[2].bytes);
    expect(ds.uint16('x00280103')).toBe(0);
    expect(Number(ds.string('x00281052'))).toBe(-1024);
    const hu = Array.from(storedPixels(ds, false), (stored) => stored - 1024);
    expect(hu).toEqual(Array.from(volume.voxels.subarray(2 * 16 * 12, 3 * 16 * 12)));
  });

  it('writes positions for oblique, gantry-tilted and feet-first grids exactly from the volume', () => {
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const oblique: [Vec3, Vec3, Vec3] = [[c, s, 0], [-s * 0.6, c * 0.6, 0.8], [s * 0.8, -c * 0.8, 0.6]];
    // Gantry tilt of 15 degrees: the slice axis leans in the y-z plane, rows and columns stay axial.
    const tilt = (15 * Math.PI) / 180;
    const tilted: [Vec3, Vec3, Vec3] = [[1, 0, 0], [0, 1, 0], [0, Math.sin(tilt), Math.cos(tilt)]];
    // Feet first supine: rows point to the patient's right, k runs towards the feet.
    const feetFirst: [Vec3, Vec3, Vec3] = [[-1, 0, 0], [0, 1, 0], [0, 0, -1]];
    for (const direction of [oblique, tilted, feetFirst]) {
      const volume = rampVolume([9, 7, 4], direction);
      const series = writeCtSeries(volume, { patientPosition: direction === feetFirst ? 'FFS' : 'HFS' });
      series.files.forEach((file, k) => {
        const ds = parse(file.bytes);
        expectClose(numbers(ds, 'x00200032'), indexToWorld(volume, [0, 0, k]), 1e-4);
        expectClose(numbers(ds, 'x00200037'), [...direction[0], ...direction[1]], 1e-6);
      });
    }
    const tiltedSeries = writeCtSeries(rampVolume([9, 7, 4], tilted));
    // SliceThickness is the distance between the image planes, not the (longer) step along k.
    expect(Number(parse(tiltedSeries.files[0].bytes).string('x00180050'))).toBeCloseTo(2.5 * Math.cos(tilt), 6);
    const feetFirstSeries = writeCtSeries(rampVolume([9, 7, 4], feetFirst), { patientPosition: 'FFS' });
    const z = feetFirstSeries.files.map((file) => numbers(parse(file.bytes), 'x00200032')[2]);
    expect(z).toEqual([-100, -102.5, -105, -107.5]);
    expect(parse(feetFirstSeries.files[0].bytes).string('x00185100')).toBe('FFS');
  });

  it('numbers instances ascending, reversed or shuffled without changing positions', () => {
    const volume = rampVolume([8, 8, 6], AXIAL);
    const instanceNumbers = (order: 'ascending' | 'reversed' | 'shuffled') =>
      writeCtSeries(volume, { instanceNumbers: order, seed: 3 }).files.map((file) => {
        const ds = parse(file.bytes);
        expect(Number(ds.string('x00200013'))).toBe(file.instanceNumber);
        return file.instanceNumber;
      });
    expect(instanceNumbers('ascending')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(instanceNumbers('reversed')).toEqual([6, 5, 4, 3, 2, 1]);
    const shuffled = instanceNumbers('shuffled');
    expect(shuffled).not.toEqual([1, 2, 3, 4, 5, 6]);
    expect([...shuffled].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('derives valid UIDs deterministically from the seed', () => {
    const volume = rampVolume([4, 4, 3], AXIAL);
    const a = writeCtSeries(volume, { seed: 42 });
    const b = writeCtSeries(volume, { seed: 42 });
    const c = writeCtSeries(volume, { seed: 43 });
    expect(b.studyInstanceUID).toBe(a.studyInstanceUID);
    expect(b.files.map((f) => f.sopInstanceUID)).toEqual(a.files.map((f) => f.sopInstanceUID));
    expect(Buffer.from(b.files[1].bytes).equals(Buffer.from(a.files[1].bytes))).toBe(true);
    expect(c.studyInstanceUID).not.toBe(a.studyInstanceUID);
    const uids = [a.studyInstanceUID, a.seriesInstanceUID, a.frameOfReferenceUID, ...a.files.map((f) => f.sopInstanceUID)];
    expect(new Set(uids).size).toBe(uids.length);
    for (const uid of uids) {
      expect(uid).toMatch(/^2\.25\.(0|[1-9][0-9]*)$/);
      expect(uid.length).toBeLessThanOrEqual(64);
    }
  });

  it('can leave out the study and series UIDs', () => {
    const series = writeCtSeries(rampVolume([4, 4, 2], AXIAL), {
      omit: { studyInstanceUID: true, seriesInstanceUID: true },
      referringPhysicianName: 'Doe^Jane',
    });
    const ds = parse(series.files[0].bytes);
    expect(ds.elements.x0020000d).toBeUndefined();
    expect(ds.elements.x0020000e).toBeUndefined();
    expect(ds.string('x00200052')).toBe(series.frameOfReferenceUID);
    expect(ds.string('x00080090')).toBe('Doe^Jane');
  });

  it('refuses a volume whose voxel count does not match its dimensions', () => {
    const volume = { ...rampVolume([4, 4, 2], AXIAL), dimensions: [4, 4, 3] as Vec3 };
    expect(() => writeCtSeries(volume)).toThrow(/voxels/);
  });

  it('passes dciodvfy (CT Image IOD) without errors', () => {
    const volume = rampVolume([23, 38, 3], [[-1, 0, 0], [0, 1, 0], [0, 0, -1]]);
    const dir = mkdtempSync(join(tmpdir(), 'rt-liver-ct-'));
    try {
      for (const storage of ['int16', 'uint16-intercept-1024'] as const) {
        const file = join(dir, `${storage}.dcm`);
        writeFileSync(file, Buffer.from(writeCtSeries(volume, { pixelStorage: storage, patientPosition: 'FFS' }).files[1].bytes));
        // dciodvfy writes its findings to stderr and exits 0 even with errors.
        const run = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
        if (run.error) throw new Error(`dciodvfy could not run (${run.error.message}): run scripts/setup.sh`);
        const report = `${run.stdout}${run.stderr}`;
        expect(report.split('\n').filter((line) => /^Error/.test(line))).toEqual([]);
        expect(report).toMatch(/CTImage/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('formatDecimalString', () => {
  it('keeps values within 16 characters', () => {
    for (const value of [0, -0, 1 / 3, -123.456789012345, 1e-12, 2.5, -1024, 98765.4321098]) {
      const text = formatDecimalString(value);
      expect(text.length).toBeLessThanOrEqual(16);
      expect(Math.abs(Number(text) - value)).toBeLessThanOrEqual(Math.abs(value) * 1e-9 + 1e-10);
    }
  });
});
