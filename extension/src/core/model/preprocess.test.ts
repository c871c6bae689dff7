import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Vec3, Volume } from '../volume';
import { indexToWorld } from '../volume';
import { canonicalView, lpsReorientation, reorientGeometry } from './orientation';
import { applyHuWindow, preprocess } from './preprocess';
import { halfPixelTaps, resampleTrilinear } from './resample';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'preprocessing');

interface FixtureCase {
  input: { dimensions: Vec3; spacing: Vec3; origin: Vec3; direction: [Vec3, Vec3, Vec3]; file: string };
  reoriented: { dimensions: Vec3; spacing: Vec3; origin: Vec3; direction: [Vec3, Vec3, Vec3] };
  output: { shape: [number, number, number]; file: string };
  huWindow: [number, number];
  tolerance: number;
}

function readArray<T>(path: string, Type: new (buffer: ArrayBuffer) => T): T {
  const bytes = readFileSync(path);
  return new Type(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

describe('pre-processing matches the Python implementation of the contract', () => {
  const cases = readdirSync(FIXTURES);
  it('has fixture cases to compare against', () => {
    expect(cases.length).toBeGreaterThanOrEqual(3);
  });

  for (const name of cases) {
    it(`case ${name}: reoriented geometry and tensor within the fixture tolerance`, () => {
      const fixture = JSON.parse(readFileSync(join(FIXTURES, name, 'case.json'), 'utf8')) as FixtureCase;
      const volume: Volume<Int16Array> = {
        ...fixture.input,
        voxels: readArray(join(FIXTURES, name, fixture.input.file), Int16Array),
      };
      const expected = readArray(join(FIXTURES, name, fixture.output.file), Float32Array);
      const result = preprocess(volume, { shape: [1, 1, ...fixture.output.shape], huWindow: fixture.huWindow });

      const geometry = result.canonicalGeometry;
      expect(geometry.dimensions).toEqual(fixture.reoriented.dimensions);
      for (let a = 0; a < 3; a++) {
        expect(geometry.spacing[a]).toBeCloseTo(fixture.reoriented.spacing[a], 9);
        expect(geometry.origin[a]).toBeCloseTo(fixture.reoriented.origin[a], 6);
        for (let c = 0; c < 3; c++) expect(geometry.direction[a][c]).toBeCloseTo(fixture.reoriented.direction[a][c], 9);
      }
      expect(result.tensor.length).toBe(expected.length);
      let worst = 0;
      for (let n = 0; n < expected.length; n++) worst = Math.max(worst, Math.abs(result.tensor[n] - expected[n]));
      expect(worst).toBeLessThan(fixture.tolerance);
    });
  }
});

describe('half-pixel trilinear resampling', () => {
  it('maps output centres to (o + 0.5) * nIn / nOut - 0.5, clamped', () => {
    const down = halfPixelTaps(8, 4);
    expect(Array.from(down.lower)).toEqual([0, 2, 4, 6]);
    expect(Array.from(down.weight)).toEqual([0.5, 0.5, 0.5, 0.5]);
    const up = halfPixelTaps(2, 4); // x = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1)
    expect(Array.from(up.lower)).toEqual([0, 0, 0, 1]);
    expect(Array.from(up.upper)).toEqual([1, 1, 1, 1]);
    expect(Array.from(up.weight)).toEqual([0, 0.25, 0.75, 0]);
  });

  it('reproduces a linear ramp exactly away from the clamped borders', () => {
    // f(i, j, k) = 3i - 2j + 5k + 7 is reproduced exactly by linear interpolation.
    const inDims: Vec3 = [40, 30, 20];
    const outDims: Vec3 = [16, 48, 10];
    const data = new Float32Array(inDims[0] * inDims[1] * inDims[2]);
    const f = (i: number, j: number, k: number) => 3 * i - 2 * j + 5 * k + 7;
    let n = 0;
    for (let k = 0; k < inDims[2]; k++) for (let j = 0; j < inDims[1]; j++) for (let i = 0; i < inDims[0]; i++) data[n++] = f(i, j, k);
    const out = resampleTrilinear({ data, dims: inDims, strides: [1, 40, 1200], offset: 0 }, outDims);
    const source = (o: number, a: number) =>
      Math.min(Math.max((o + 0.5) * (inDims[a] / outDims[a]) - 0.5, 0), inDims[a] - 1);
    n = 0;
    let worst = 0;
    for (let k = 0; k < outDims[2]; k++) {
      for (let j = 0; j < outDims[1]; j++) {
        for (let i = 0; i < outDims[0]; i++) {
          worst = Math.max(worst, Math.abs(out[n++] - f(source(i, 0), source(j, 1), source(k, 2))));
        }
      }
    }
    expect(worst).toBeLessThan(1e-4);
  });

  it('leaves a same-size volume unchanged', () => {
    const data = Int16Array.from({ length: 5 * 4 * 3 }, (_, n) => n * 7 - 100);
    const out = resampleTrilinear({ data, dims: [5, 4, 3], strides: [1, 5, 20], offset: 0 }, [5, 4, 3]);
    expect(Array.from(out)).toEqual(Array.from(data));
  });
});

describe('LPS reorientation', () => {
  it('puts a RAS grid in LPS index order with the same world positions', () => {
    const geometry = {
      dimensions: [4, 3, 2] as Vec3,
      spacing: [1.5, 2, 3] as Vec3,
      origin: [10, 20, 30] as Vec3,
      direction: [
        [-1, 0, 0],
        [0, -1, 0],
        [0, 0, 1],
      ] as [Vec3, Vec3, Vec3],
    };
    const reorientation = lpsReorientation(geometry);
    expect(reorientation).toEqual({ permutation: [0, 1, 2], flipped: [true, true, false] });
    const canonical = reorientGeometry(geometry, reorientation);
    const data = Int16Array.from({ length: 24 }, (_, n) => n);
    const view = canonicalView(data, geometry, reorientation);
    // Every canonical voxel reads the source voxel at the same world position.
    for (let k = 0; k < 2; k++) {
      for (let j = 0; j < 3; j++) {
        for (let i = 0; i < 4; i++) {
          const sourceIndex = data[view.offset + i * view.strides[0] + j * view.strides[1] + k * view.strides[2]];
          const si = sourceIndex % 4;
          const sj = Math.floor(sourceIndex / 4) % 3;
          const sk = Math.floor(sourceIndex / 12);
          const a = indexToWorld(canonical, [i, j, k]);
          const b = indexToWorld(geometry, [si, sj, sk]);
          for (let c = 0; c < 3; c++) expect(a[c]).toBeCloseTo(b[c], 9);
        }
      }
    }
  });
});

describe('HU window', () => {
  it('maps [huMin, huMax] to [-1, 1], clamps outside, and treats NaN as air', () => {
    const values = Float32Array.from([-1000, -200, 50, 300, 3000, Number.NaN]);
    applyHuWindow(values, [-200, 300]);
    expect(Array.from(values)).toEqual([-1, -1, 0, 1, 1, -1]);
  });
});
