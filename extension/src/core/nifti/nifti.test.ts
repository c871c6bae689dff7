import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'fflate';
import { describeWithSharedData } from '../../../../test/support/shared-data';
import { isRtLiverError } from '../errors';
import { indexToWorld, type Vec3, type Volume, type VoxelArray } from '../volume';
import { NIFTI_INTENT_LABEL, readNifti, readNiftiDetailed, writeNifti } from './index';

/** Debian's Python (the first python3 on PATH does not see Debian's nibabel). */
const PYTHON = '/usr/bin/python3';

let workDir: string;
beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'rt-liver-nifti-'));
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Runs a Python snippet with nibabel; `args` arrive as the JSON object ARGS, stdout is parsed as JSON. */
function python<T>(code: string, args: unknown): T {
  const script = join(workDir, `script-${Math.random().toString(36).slice(2)}.py`);
  writeFileSync(script, `import json, sys\nimport numpy as np\nimport nibabel as nib\nARGS = json.loads(sys.argv[1])\n${code}\n`);
  const run = spawnSync(PYTHON, [script, JSON.stringify(args)], { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    throw new Error(`${PYTHON} with nibabel failed (run scripts/setup.sh): ${run.error?.message ?? ''}${run.stderr}`);
  }
  return JSON.parse(run.stdout) as T;
}

const rasToLps = (p: number[]): Vec3 => [-p[0], -p[1], p[2]];

function expectClose(actual: number[], expected: number[], tolerance = 1e-3): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => {
    if (Math.abs(value - expected[i]) > tolerance) throw new Error(`[${actual.join(', ')}] != [${expected.join(', ')}]`);
  });
}

function voxelAt(volume: Volume, [i, j, k]: number[]): number {
  const [nx, ny] = volume.dimensions;
  return volume.voxels[i + j * nx + k * nx * ny];
}

function rotation(yaw: number, pitch: number): [Vec3, Vec3, Vec3] {
  // Rz(yaw) * Rx(pitch): columns are the index axes' directions.
  const [cz, sz, cx, sx] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch)];
  const m = [
    [cz, -sz * cx, sz * sx],
    [sz, cz * cx, -cz * sx],
    [0, sx, cx],
  ];
  return [0, 1, 2].map((axis) => [m[0][axis], m[1][axis], m[2][axis]]) as [Vec3, Vec3, Vec3];
}

function makeVolume<T extends VoxelArray>(voxels: T, direction: [Vec3, Vec3, Vec3] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]): Volume<T> {
  return { voxels, dimensions: [5, 4, 3], spacing: [0.75, 1.25, 3], origin: [-10.5, 22.25, -301], direction };
}

const SAMPLES = [[0, 0, 0], [4, 0, 0], [0, 3, 0], [0, 0, 2], [4, 3, 2], [2, 1, 1]];

describe('writeNifti + readNifti', () => {
  const arrays: [string, () => VoxelArray][] = [
    ['uint8', () => Uint8Array.from({ length: 60 }, (_, p) => (p * 7) % 256)],
    ['int16', () => Int16Array.from({ length: 60 }, (_, p) => p * 97 - 1024)],
    ['uint16', () => Uint16Array.from({ length: 60 }, (_, p) => p * 1000)],
    ['int32', () => Int32Array.from({ length: 60 }, (_, p) => p * 100000 - 3000000)],
    ['float32', () => Float32Array.from({ length: 60 }, (_, p) => p / 3 - 7.5)],
  ];
  it.each(arrays)('round-trips %s voxels and an oblique geometry, plain and gzipped', (_name, make) => {
    const volume = makeVolume(make(), rotation(0.4, -0.3));
    for (const gzip of [false, true]) {
      const bytes = writeNifti(volume, { gzip });
      expect(new Uint8Array(bytes)[0] === 0x1f).toBe(gzip);
      const back = readNiftiDetailed(bytes);
      expect(back.transform).toBe('sform');
      expect(back.volume.voxels.constructor).toBe(volume.voxels.constructor);
      expect(Array.from(back.volume.voxels)).toEqual(Array.from(volume.voxels));
      expect(back.volume.dimensions).toEqual(volume.dimensions);
      expectClose(back.volume.spacing, volume.spacing, 1e-5);
      expectClose(back.volume.origin, volume.origin, 1e-4);
      back.volume.direction.forEach((axis, a) => expectClose(axis, volume.direction[a], 1e-6));
    }
  });

  it('writes a qform equal to the sform for orthogonal grids, and none for sheared ones', () => {
    const oblique = makeVolume(new Int16Array(60), rotation(2.5, 0.7));
    const header = readNiftiDetailed(writeNifti(oblique)).header;
    expect(header.qformCode).toBe(1);
    expect(header.sformCode).toBe(1);
    // Read the same bytes again with the sform switched off: the qform alone gives the same grid.
    const qformOnly = new Uint8Array(writeNifti(oblique));
    new DataView(qformOnly.buffer).setInt16(254, 0, true);
    const fromQform = readNiftiDetailed(qformOnly);
    expect(fromQform.transform).toBe('qform');
    for (const index of SAMPLES) expectClose(indexToWorld(fromQform.volume, index as Vec3), indexToWorld(oblique, index as Vec3), 1e-4);

    const tilt = 0.3;
    const sheared = makeVolume(new Int16Array(60), [[1, 0, 0], [0, 1, 0], [0, Math.sin(tilt), Math.cos(tilt)]]);
    const shearedBack = readNiftiDetailed(writeNifti(sheared));
    expect(shearedBack.header.qformCode).toBe(0);
    for (const index of SAMPLES) expectClose(indexToWorld(shearedBack.volume, index as Vec3), indexToWorld(sheared, index as Vec3), 1e-4);
  });

  it('falls back to voxel sizes alone when neither transform is set', () => {
    const bytes = new Uint8Array(writeNifti(makeVolume(new Uint8Array(60), rotation(0.2, 0.1))));
    const view = new DataView(bytes.buffer);
    view.setInt16(252, 0, true);
    view.setInt16(254, 0, true);
    const { volume, transform } = readNiftiDetailed(bytes);
    expect(transform).toBe('pixdim');
    expectClose(volume.origin, [0, 0, 0]);
    expectClose(volume.spacing, [0.75, 1.25, 3], 1e-6);
    // Identity in RAS is a flip of x and y in LPS.
    expect(volume.direction).toEqual([[-1, 0, 0], [0, -1, 0], [0, 0, 1]]);
  });

  it('applies scl_slope and scl_inter, keeping integer CT numbers integer', () => {
    const stored = Uint16Array.from({ length: 60 }, (_, p) => p * 50);
    const bytes = new Uint8Array(writeNifti(makeVolume(stored)));
    const view = new DataView(bytes.buffer);
    view.setFloat32(112, 1, true);
    view.setFloat32(116, -1024, true);
    const hu = readNifti(bytes);
    expect(hu.voxels).toBeInstanceOf(Int16Array);
    expect(Array.from(hu.voxels)).toEqual(Array.from(stored, (v) => v - 1024));
    view.setFloat32(112, 0.5, true);
    view.setFloat32(116, 0.25, true);
    const scaled = readNifti(bytes);
    expect(scaled.voxels).toBeInstanceOf(Float32Array);
    expect(Array.from(scaled.voxels)).toEqual(Array.from(stored, (v) => v * 0.5 + 0.25));
  });

  it('marks label maps with the label intent', () => {
    const header = readNiftiDetailed(writeNifti(makeVolume(new Uint8Array(60)), { intent: 'label', description: 'liver mask' })).header;
    expect(header.intentCode).toBe(NIFTI_INTENT_LABEL);
    expect(header.descrip).toBe('liver mask');
  });
});

describe('bad NIfTI input', () => {
  const codeOf = (action: () => unknown): string => {
    try {
      action();
    } catch (error) {
      if (isRtLiverError(error)) {
        expect(error.hint).toBeTruthy();
        return error.code;
      }
      throw error;
    }
    throw new Error('no error thrown');
  };
  const valid = () => new Uint8Array(writeNifti(makeVolume(new Int16Array(60))));

  it('refuses a singular or non-finite affine with a hint', () => {
    const singular = valid();
    const view = new DataView(singular.buffer);
    for (let row = 0; row < 3; row++) view.setFloat32(280 + 16 * row + 4 * 1, 0, true); // j axis of length 0
    expect(codeOf(() => readNifti(singular))).toBe('NIFTI_SINGULAR_AFFINE');
    const parallel = valid();
    const pview = new DataView(parallel.buffer);
    for (let row = 0; row < 3; row++) pview.setFloat32(280 + 16 * row + 8, pview.getFloat32(280 + 16 * row, true), true); // k = i
    expect(codeOf(() => readNifti(parallel))).toBe('NIFTI_SINGULAR_AFFINE');
    const notFinite = valid();
    new DataView(notFinite.buffer).setFloat32(280 + 12, Number.NaN, true);
    expect(codeOf(() => readNifti(notFinite))).toBe('NIFTI_BAD_AFFINE');
    const flat = { ...makeVolume(new Int16Array(60)), spacing: [1, 0, 1] as Vec3 };
    expect(codeOf(() => writeNifti(flat))).toBe('NIFTI_SINGULAR_AFFINE');
  });

  it('names truncated, damaged and foreign files', () => {
    expect(codeOf(() => readNifti(valid().slice(0, 400)))).toBe('NIFTI_TRUNCATED');
    expect(codeOf(() => readNifti(valid().slice(0, 100)))).toBe('NIFTI_TRUNCATED');
    expect(codeOf(() => readNifti(new TextEncoder().encode('DICM'.padEnd(400, 'x'))))).toBe('NIFTI_NOT_NIFTI');
    const gz = new Uint8Array(writeNifti(makeVolume(new Int16Array(60)), { gzip: true }));
    expect(codeOf(() => readNifti(gz.slice(0, gz.length - 20)))).toBe('NIFTI_BAD_GZIP');
    const fourD = valid();
    const view = new DataView(fourD.buffer);
    view.setInt16(40, 4, true);
    view.setInt16(48, 2, true);
    expect(codeOf(() => readNifti(fourD))).toBe('NIFTI_NOT_3D');
    const badType = valid();
    new DataView(badType.buffer).setInt16(70, 128, true); // RGB24
    expect(codeOf(() => readNifti(badType))).toBe('NIFTI_UNSUPPORTED_DATATYPE');
  });
});

describe('NIfTI against nibabel', () => {
  interface NibabelCase { file: string; worlds: number[][]; values: number[] }

  it('reads files nibabel wrote (NIfTI-1/2, gzip, big-endian, qform only) at the right LPS positions', () => {
    const cases = python<Record<string, NibabelCase>>(
      `
from nibabel.affines import apply_affine
rng = np.random.default_rng(0)
def rot(yaw, pitch):
    cz, sz, cx, sx = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    return np.array([[cz, -sz*cx, sz*sx], [sz, cz*cx, -cz*sx], [0, sx, cx]])
def affine(r, zooms, offset):
    a = np.eye(4); a[:3, :3] = r * np.array(zooms); a[:3, 3] = offset; return a
out = {}
def save(name, img):
    path = ARGS['dir'] + '/' + name
    nib.save(img, path)
    data = np.asanyarray(nib.load(path).dataobj)
    samples = ARGS['samples']
    out[name] = {'file': path, 'worlds': [apply_affine(img.affine, s).tolist() for s in samples],
                 'values': [float(data[tuple(s)]) for s in samples]}
shape = (5, 4, 3)
ct = rng.integers(-1024, 2000, size=shape).astype(np.int16)
save('oblique-int16.nii.gz', nib.Nifti1Image(ct, affine(rot(0.5, 0.2), (0.8, 0.9, 2.5), (120.5, -80.25, 33))))
save('flipped-float32.nii', nib.Nifti2Image(rng.normal(size=shape).astype(np.float32), affine(np.diag([-1, 1, 1]), (1.5, 1.5, 3), (10, 20, -30))))
hdr = nib.Nifti1Header(endianness='>')
save('bigendian-uint8.nii', nib.Nifti1Image(rng.integers(0, 8, size=shape).astype(np.uint8), affine(rot(-0.3, 0), (2, 2, 2), (0, 5, 7)), header=hdr))
q = nib.Nifti1Image(ct, None)
q.set_qform(affine(rot(1.1, -0.4), (0.7, 0.7, 5), (-3, 4, -5)), code=1)
q.set_sform(None, code=0)
save('qform-only.nii', q)
print(json.dumps(out))
`,
      { dir: workDir, samples: SAMPLES },
    );
    const expectedTransform: Record<string, string> = {
      'oblique-int16.nii.gz': 'sform', 'flipped-float32.nii': 'sform', 'bigendian-uint8.nii': 'sform', 'qform-only.nii': 'qform',
    };
    for (const [name, expected] of Object.entries(cases)) {
      const { volume, header, transform } = readNiftiDetailed(readFileSync(expected.file));
      expect(transform).toBe(expectedTransform[name]);
      if (name === 'flipped-float32.nii') expect(header.version).toBe(2);
      if (name === 'bigendian-uint8.nii') expect(header.littleEndian).toBe(false);
      expect(volume.dimensions).toEqual([5, 4, 3]);
      SAMPLES.forEach((index, s) => {
        expectClose(indexToWorld(volume, index as Vec3), rasToLps(expected.worlds[s]), 1e-3);
        expect(voxelAt(volume, index)).toBeCloseTo(expected.values[s], 5);
      });
    }
  });

  it('writes files that nibabel reads with the same world coordinates (sform and qform)', () => {
    const oblique = makeVolume(Int16Array.from({ length: 60 }, (_, p) => p * 11 - 300), rotation(-0.7, 0.45));
    const tilt = 0.25;
    const sheared = makeVolume(Uint8Array.from({ length: 60 }, (_, p) => p % 3), [[1, 0, 0], [0, 1, 0], [0, Math.sin(tilt), Math.cos(tilt)]]);
    const files = { oblique: join(workDir, 'ours-oblique.nii.gz'), sheared: join(workDir, 'ours-sheared.nii') };
    writeFileSync(files.oblique, new Uint8Array(writeNifti(oblique, { gzip: true })));
    writeFileSync(files.sheared, new Uint8Array(writeNifti(sheared, { intent: 'label' })));
    const result = python<Record<string, { sform: number[][]; qform: number[][]; qcode: number; scode: number; worlds: number[][]; values: number[] }>>(
      `
from nibabel.affines import apply_affine
out = {}
for name, path in ARGS['files'].items():
    img = nib.load(path)
    data = np.asanyarray(img.dataobj)
    sform, scode = img.get_sform(coded=True)
    qform, qcode = img.get_qform(coded=True)
    out[name] = {'sform': sform.tolist(), 'qform': None if qform is None else qform.tolist(), 'scode': int(scode), 'qcode': int(qcode),
                 'worlds': [apply_affine(img.affine, s).tolist() for s in ARGS['samples']],
                 'values': [float(data[tuple(s)]) for s in ARGS['samples']]}
print(json.dumps(out))
`,
      { files, samples: SAMPLES },
    );
    for (const [name, volume] of [['oblique', oblique], ['sheared', sheared]] as const) {
      const seen = result[name];
      expect(seen.scode).toBe(1);
      SAMPLES.forEach((index, s) => {
        expectClose(rasToLps(seen.worlds[s]), indexToWorld(volume, index as Vec3), 1e-3);
        expect(seen.values[s]).toBe(voxelAt(volume, index));
      });
    }
    expect(result.oblique.qcode).toBe(1);
    result.oblique.qform.forEach((row, r) => expectClose(row, result.oblique.sform[r], 1e-4));
    expect(result.sheared.qcode).toBe(0);
  });
});

describeWithSharedData('real NIfTI: TotalSegmentator example CT', ['ct', 'totalseg-a'], (folder) => {
  it('reads example_ct.nii.gz and its segmentation with the geometry nibabel sees', () => {
    const names = ['example_ct.nii.gz', 'example_seg_fast_force_split.nii.gz'];
    const samples = [[0, 0, 0], [121, 100, 111], [60, 50, 56], [10, 90, 30]];
    const seen = python<{ shape: number[]; worlds: number[][]; values: number[] }[]>(
      `
from nibabel.affines import apply_affine
out = []
for name in ARGS['names']:
    img = nib.load(ARGS['folder'] + '/' + name)
    data = np.asanyarray(img.dataobj)
    out.append({'shape': list(img.shape), 'worlds': [apply_affine(img.affine, s).tolist() for s in ARGS['samples']],
                'values': [float(data[tuple(s)]) for s in ARGS['samples']]})
print(json.dumps(out))
`,
      { folder, names, samples },
    );
    names.forEach((name, n) => {
      const volume = readNifti(readFileSync(join(folder, name)));
      expect(volume.dimensions).toEqual(seen[n].shape);
      expect(volume.dimensions).toEqual([122, 101, 112]);
      samples.forEach((index, s) => {
        expectClose(indexToWorld(volume, index as Vec3), rasToLps(seen[n].worlds[s]), 1e-3);
        expect(voxelAt(volume, index)).toBe(seen[n].values[s]);
      });
      if (name === 'example_ct.nii.gz') {
        expectClose(volume.spacing, [3, 3, 3], 1e-3);
        let min = Infinity;
        let max = -Infinity;
        for (const v of volume.voxels) {
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
        expect(min).toBeLessThan(-900); // air
        expect(max).toBeGreaterThan(300); // bone
      }
    });
    // The gzip stream really is what we decompress.
    expect(gunzipSync(new Uint8Array(readFileSync(join(folder, names[0])))).byteLength).toBeGreaterThan(122 * 101 * 112 * 2);
  });
});
