/**
 * Geometry of DICOM series read back from series written with exact geometry: for every voxel of the
 * read volume, its world position (indexToWorld) must equal the world position of the source voxel
 * with the same value. Voxel values are unique, so they tell which source voxel landed where.
 */
import { readDicomSeries } from '../../extension/src/core/dicom';
import { writeCtSeries, type CtSeriesOptions } from '../../synthetic/ct-series-writer';
import { indexToWorld, type Vec3, type Volume } from '../../extension/src/core/volume';

/** Unique HU per voxel, offset so that some are negative (exercises the uint16 + intercept path). */
function numberedVolume(dimensions: Vec3, spacing: Vec3, origin: Vec3, direction: [Vec3, Vec3, Vec3]): Volume<Int16Array> {
  const count = dimensions[0] * dimensions[1] * dimensions[2];
  const voxels = new Int16Array(count);
  for (let index = 0; index < count; index++) voxels[index] = index - 1000;
  return { voxels, dimensions, spacing, origin, direction };
}

function rotation(axis: Vec3, degrees: number): (v: Vec3) => Vec3 {
  const [x, y, z] = axis.map((c) => c / Math.hypot(...axis));
  const t = (degrees * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  return ([a, b, d]) => [
    (c + x * x * (1 - c)) * a + (x * y * (1 - c) - z * s) * b + (x * z * (1 - c) + y * s) * d,
    (y * x * (1 - c) + z * s) * a + (c + y * y * (1 - c)) * b + (y * z * (1 - c) - x * s) * d,
    (z * x * (1 - c) - y * s) * a + (z * y * (1 - c) + x * s) * b + (c + z * z * (1 - c)) * d,
  ];
}

function shuffled<T>(items: T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/** Largest distance (mm) between where a read voxel is and where its source voxel was. */
function worstWorldError(source: Volume<Int16Array>, read: Volume<Int16Array>): number {
  const [nx, ny] = source.dimensions;
  const [rx, ry, rz] = read.dimensions;
  let worst = 0;
  for (let k = 0; k < rz; k++) {
    for (let j = 0; j < ry; j++) {
      for (let i = 0; i < rx; i++) {
        const sourceIndex = read.voxels[i + j * rx + k * rx * ry] + 1000;
        const si = sourceIndex % nx;
        const sj = Math.floor(sourceIndex / nx) % ny;
        const sk = Math.floor(sourceIndex / (nx * ny));
        const expected = indexToWorld(source, [si, sj, sk]);
        const actual = indexToWorld(read, [i, j, k]);
        worst = Math.max(worst, Math.hypot(expected[0] - actual[0], expected[1] - actual[1], expected[2] - actual[2]));
      }
    }
  }
  return worst;
}

async function writeAndRead(source: Volume<Int16Array>, options: CtSeriesOptions, order: 'as-written' | 'reversed' | 'shuffled' = 'shuffled') {
  const series = writeCtSeries(source, { seed: 'geometry-test', ...options });
  let files = series.files.map((file) => ({ name: file.name, bytes: file.bytes }));
  if (order === 'reversed') files = files.reverse();
  if (order === 'shuffled') files = shuffled(files, 7);
  const result = await readDicomSeries(files);
  return { series, result };
}

const AXIAL: [Vec3, Vec3, Vec3] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];

describe('DICOM series geometry: every voxel lands where it was written', () => {
  test('head first, shuffled files and shuffled InstanceNumbers, odd 23x38 matrix', async () => {
    const source = numberedVolume([23, 38, 7], [0.7, 0.9, 2.5], [46.4649, 5.01881, -177.75], AXIAL);
    const { result } = await writeAndRead(source, { instanceNumbers: 'shuffled' });
    expect(result.volume.dimensions).toEqual([23, 38, 7]);
    expect(result.volume.spacing[0]).toBeCloseTo(0.7, 9); // i steps by the column spacing, PixelSpacing[1]
    expect(result.volume.spacing[1]).toBeCloseTo(0.9, 9);
    expect(worstWorldError(source, result.volume)).toBeLessThan(1e-6);
    expect(Array.from(result.volume.voxels)).toEqual(Array.from(source.voxels));
    expect(result.warnings).toEqual([]);
  });

  test('reversed file order and reversed InstanceNumbers give the same volume', async () => {
    const source = numberedVolume([16, 12, 9], [0.8, 0.8, 3], [-100, -120, 40], AXIAL);
    const { result } = await writeAndRead(source, { instanceNumbers: 'reversed' }, 'reversed');
    expect(Array.from(result.volume.voxels)).toEqual(Array.from(source.voxels));
    expect(result.volume.origin).toEqual([-100, -120, 40]);
    expect(worstWorldError(source, result.volume)).toBeLessThan(1e-6);
  });

  test('feet first (rows towards patient right, slices towards the feet)', async () => {
    const feetFirst: [Vec3, Vec3, Vec3] = [[-1, 0, 0], [0, 1, 0], [0, 0, -1]];
    const source = numberedVolume([20, 18, 6], [0.75, 0.75, 5], [180, -150, 300], feetFirst);
    const { result } = await writeAndRead(source, { patientPosition: 'FFS' });
    expect(result.volume.direction[0]).toEqual([-1, 0, 0]);
    expect(result.volume.direction[2].map((v) => v + 0)).toEqual([0, 0, -1]);
    expect(worstWorldError(source, result.volume)).toBeLessThan(1e-6);
  });

  test('slices stored against the normal are reordered along it (k axis flips, world positions do not)', async () => {
    const againstNormal: [Vec3, Vec3, Vec3] = [[1, 0, 0], [0, 1, 0], [0, 0, -1]];
    const source = numberedVolume([10, 11, 5], [1, 1, 2], [0, 0, 0], againstNormal);
    const { result } = await writeAndRead(source, {});
    expect(result.volume.direction[2]).toEqual([0, 0, 1]);
    expect(result.volume.origin[2]).toBeCloseTo(-8, 9);
    expect(worstWorldError(source, result.volume)).toBeLessThan(1e-6);
    expect(result.slices.map((slice) => slice.imagePositionPatient[2])).toEqual([-8, -6, -4, -2, 0]);
  });

  test('oblique direction cosines', async () => {
    const rotate = rotation([0.3, -0.5, 0.8], 27);
    const oblique = AXIAL.map(rotate) as [Vec3, Vec3, Vec3];
    const source = numberedVolume([23, 38, 6], [0.7, 0.7, 2.5], [12.5, -40.25, 88], oblique);
    const { result } = await writeAndRead(source, { instanceNumbers: 'shuffled' });
    // DS values keep 10 significant digits; positions are exact to well below a micrometre.
    expect(worstWorldError(source, result.volume)).toBeLessThan(1e-5);
    expect(result.warnings).toEqual([]);
  });

  test('gantry tilt: a sheared grid whose k axis is the real slice step, with a warning', async () => {
    const tilt = (15 * Math.PI) / 180;
    const step: Vec3 = [0, Math.sin(tilt), Math.cos(tilt)];
    const source = numberedVolume([16, 16, 8], [0.9, 0.9, 5 / Math.cos(tilt)], [-7, -7, -20], [[1, 0, 0], [0, 1, 0], step]);
    const { result } = await writeAndRead(source, {});
    expect(worstWorldError(source, result.volume)).toBeLessThan(1e-5);
    expect(result.volume.direction[2][1]).toBeCloseTo(Math.sin(tilt), 6);
    expect(result.warnings.join(' ')).toMatch(/sheared by 15\.00 degrees/);
  });

  test('uint16 storage with RescaleIntercept -1024 reads back negative HU exactly', async () => {
    const source = numberedVolume([9, 7, 4], [1, 1, 1], [0, 0, 0], AXIAL);
    for (let index = 0; index < source.voxels.length; index++) source.voxels[index] = index - 1000; // -1000 .. -749
    const { result } = await writeAndRead(source, { pixelStorage: 'uint16-intercept-1024' });
    expect(Array.from(result.volume.voxels)).toEqual(Array.from(source.voxels));
    expect(result.volume.voxels[0]).toBe(-1000);
  });

  test('files without StudyInstanceUID and SeriesInstanceUID still read as one series', async () => {
    const source = numberedVolume([8, 8, 5], [1, 1, 2], [0, 0, 0], AXIAL);
    const { result } = await writeAndRead(source, { omit: { studyInstanceUID: true, seriesInstanceUID: true } });
    expect(Array.from(result.volume.voxels)).toEqual(Array.from(source.voxels));
    expect(result.series.seriesInstanceUID).toBeUndefined();
    expect(result.series.studyInstanceUID).toBeUndefined();
    expect(result.series.frameOfReferenceUID).toBeDefined();
  });

  test('slice references come in k order with their SOP instance UIDs', async () => {
    const source = numberedVolume([8, 8, 6], [1, 1, 2], [0, 0, 0], AXIAL);
    const { series, result } = await writeAndRead(source, { instanceNumbers: 'shuffled' });
    expect(result.slices.map((slice) => slice.sopInstanceUID)).toEqual(series.files.map((file) => file.sopInstanceUID));
    expect(result.slices.every((slice) => slice.sopClassUID === '1.2.840.10008.5.1.4.1.1.2')).toBe(true);
  });
});

describe('per-slice pixel encoding', () => {
  test('slices of one series stored differently (int16 vs uint16 + intercept -1024) give one HU volume', async () => {
    const source = numberedVolume([12, 10, 8], [0.8, 0.8, 2], [-20, 10, 50], AXIAL);
    const sliceSize = 12 * 10;
    const half = (k0: number, k1: number): Volume<Int16Array> => ({
      ...source,
      dimensions: [12, 10, k1 - k0],
      origin: indexToWorld(source, [0, 0, k0]),
      voxels: source.voxels.slice(k0 * sliceSize, k1 * sliceSize),
    });
    const shared = { seriesInstanceUID: '2.25.8001', frameOfReferenceUID: '2.25.8002', studyInstanceUID: '2.25.8003' };
    const lower = writeCtSeries(half(0, 4), { ...shared, seed: 'lower', pixelStorage: 'int16' }).files;
    const upper = writeCtSeries(half(4, 8), { ...shared, seed: 'upper', pixelStorage: 'uint16-intercept-1024' }).files;
    const files = shuffled([...lower.map((f) => ({ name: `l-${f.name}`, bytes: f.bytes })), ...upper.map((f) => ({ name: `u-${f.name}`, bytes: f.bytes }))], 3);
    const result = await readDicomSeries(files);
    expect(Array.from(result.volume.voxels)).toEqual(Array.from(source.voxels));
    expect(worstWorldError(source, result.volume)).toBeLessThan(1e-6);
  });
});
