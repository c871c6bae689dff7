import { indexToWorld, type Vec3, type Volume } from '../volume';
import { BODY_FIELD, bodyBox, cranioCaudalExtentMm, cropBox, FIELD_OF_VIEW, mayNarrowField, narrowedField, placeBox, sliceBox } from './field-of-view';

type Direction = [Vec3, Vec3, Vec3];
const AXIAL: Direction = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
/** Slices stored from head to feet: index k runs towards the feet. */
const AXIAL_HEAD_FIRST: Direction = [[1, 0, 0], [0, 1, 0], [0, 0, -1]];
/** A sagittal series: index i runs towards the head, j posterior, k to the patient's left. */
const SAGITTAL: Direction = [[0, 0, 1], [0, 1, 0], [1, 0, 0]];

function maskVolume(dimensions: Vec3, spacing: Vec3, direction: Direction, liverAlong: (index: Vec3) => boolean): Volume<Uint8Array> {
  const [nx, ny, nz] = dimensions;
  const voxels = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) voxels[i + j * nx + k * nx * ny] = liverAlong([i, j, k]) ? 1 : 0;
  return { voxels, dimensions, spacing, origin: [-20, 30, 100], direction };
}

describe('narrowedField: the slices around the first pass liver of a long series', () => {
  it('keeps 60 mm below and 30 mm above the liver of an axial series stored feet first', () => {
    // 100 slices of 5 mm = 500 mm head to feet; liver in slices 40-69 (index grows towards the head).
    const mask = maskVolume([6, 6, 100], [2, 2, 5], AXIAL, ([i, , k]) => i === 2 && k >= 40 && k <= 69);
    expect(cranioCaudalExtentMm(mask)).toBe(500);
    expect(narrowedField(mask)).toEqual({ axis: 2, start: 40 - 12, stop: 70 + 6, seriesMm: 500, keptMm: 48 * 5 });
  });

  it('puts the 30 mm on the head side when the slices run from head to feet', () => {
    const mask = maskVolume([6, 6, 100], [2, 2, 5], AXIAL_HEAD_FIRST, ([, , k]) => k >= 30 && k <= 59);
    // Index 30 is the liver's top here: 6 slices above it, 12 below index 59.
    expect(narrowedField(mask)).toMatchObject({ axis: 2, start: 24, stop: 72 });
  });

  it('crops along whichever index axis runs head to feet (a sagittal series)', () => {
    const mask = maskVolume([120, 4, 5], [4, 2, 2], SAGITTAL, ([i]) => i >= 60 && i <= 89);
    expect(narrowedField(mask)).toEqual({ axis: 0, start: 60 - 15, stop: 90 + 8, seriesMm: 480, keptMm: 53 * 4 });
  });

  it('leaves a series alone when it is short, when nothing was found, or when the crop would keep most of it', () => {
    const short = maskVolume([6, 6, 50], [2, 2, 5], AXIAL, ([, , k]) => k >= 20 && k <= 30);
    expect(cranioCaudalExtentMm(short)).toBeLessThanOrEqual(FIELD_OF_VIEW.minExtentMm);
    expect(mayNarrowField(short)).toBe(false);
    expect(narrowedField(short)).toBeNull();
    expect(narrowedField(maskVolume([6, 6, 100], [2, 2, 5], AXIAL, () => false))).toBeNull();
    // A 300 mm series whose liver fills much of it: the crop (slices 8-56) would keep 82 % of the slices.
    const full = maskVolume([6, 6, 60], [2, 2, 5], AXIAL, ([, , k]) => k >= 20 && k <= 50);
    expect(mayNarrowField(full)).toBe(true);
    expect(narrowedField(full)).toBeNull();
  });
});

describe('cropBox and placeBox', () => {
  const dimensions: Vec3 = [7, 5, 9];
  const ct: Volume<Int16Array> = {
    voxels: Int16Array.from({ length: 7 * 5 * 9 }, (_, n) => n - 100),
    dimensions,
    spacing: [0.8, 0.9, 2.5],
    origin: [10, -20, 30],
    direction: [[0.6, 0.8, 0], [-0.8, 0.6, 0], [0, 0, 1]],
  };
  const at = (volume: Volume, [i, j, k]: Vec3) => volume.voxels[i + j * volume.dimensions[0] + k * volume.dimensions[0] * volume.dimensions[1]];

  for (const axis of [0, 1, 2] as const) {
    it(`crops along index axis ${axis} with voxels and world positions kept, and puts a mask back where it came from`, () => {
      const range = sliceBox(dimensions, { axis, start: 1, stop: 4 });
      const part = cropBox(ct, range);
      expect(part.voxels).toBeInstanceOf(Int16Array);
      expect(part.dimensions[axis]).toBe(3);
      const shift: Vec3 = [0, 0, 0];
      shift[axis] = 1;
      for (const index of [[0, 0, 0], [2, 1, 2], [part.dimensions[0] - 1, part.dimensions[1] - 1, part.dimensions[2] - 1]] as Vec3[]) {
        const source = index.map((v, a) => v + shift[a]) as Vec3;
        expect(at(part, index)).toBe(at(ct, source));
        indexToWorld(part, index).forEach((mm, c) => expect(mm).toBeCloseTo(indexToWorld(ct, source)[c], 9));
      }

      const mask: Volume<Uint8Array> = { ...part, voxels: new Uint8Array(part.voxels.length).fill(1) };
      const whole = placeBox(mask, ct, range);
      expect(whole.dimensions).toEqual(ct.dimensions);
      expect(whole.origin).toEqual(ct.origin);
      let inside = 0;
      for (let k = 0; k < 9; k++) for (let j = 0; j < 5; j++) for (let i = 0; i < 7; i++) {
        const along = [i, j, k][axis];
        const expected = along >= 1 && along < 4 ? 1 : 0;
        expect(at(whole, [i, j, k])).toBe(expected);
        inside += expected;
      }
      expect(inside).toBe(mask.voxels.length);
    });
  }
});

describe('bodyBox: the air around the body of a wide field is left out', () => {
  /** An axial CT of `fieldMm` square at 1 mm pixels, 4 slices, with a body of `bodyMm` (0 HU) centred at `centreMm`. */
  function ctWithBody(fieldMm: number, bodyMm: [number, number], centreMm: [number, number] = [fieldMm / 2, fieldMm / 2]): Volume<Int16Array> {
    const n = fieldMm;
    const voxels = new Int16Array(n * n * 4).fill(-1000);
    for (let k = 0; k < 4; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
      if (Math.abs(i + 0.5 - centreMm[0]) < bodyMm[0] / 2 && Math.abs(j + 0.5 - centreMm[1]) < bodyMm[1] / 2) voxels[i + j * n + k * n * n] = 0;
    }
    return { voxels, dimensions: [n, n, 4], spacing: [1, 1, 5], origin: [0, 0, 0], direction: AXIAL };
  }

  it('keeps the body and 10 mm around it in a 500 mm field, never the slices', () => {
    const box = bodyBox(ctWithBody(500, [380, 360]));
    expect(box).toEqual({ start: [60 - 10, 70 - 10, 0], stop: [440 + 10, 430 + 10, 4] });
  });

  it('keeps at least 350 mm, centred on the body, and crops only the axis where a fifth or more is air', () => {
    // A 250 x 200 mm body: 350 mm kept along each axis.
    expect(bodyBox(ctWithBody(500, [250, 200]))).toEqual({ start: [75, 75, 0], stop: [425, 425, 4] });
    // A body off to one side: the 350 mm slide inwards rather than leave the field.
    expect(bodyBox(ctWithBody(500, [200, 200], [110, 250]))).toEqual({ start: [0, 75, 0], stop: [350, 425, 4] });
    // 440 mm body in a 500 mm field: 460 kept of 500 (8 % air), no crop along either axis.
    expect(bodyBox(ctWithBody(500, [440, 440]))).toBeNull();
    expect(BODY_FIELD.minFieldMm).toBe(350);
  });

  it('does not count the table, thin and as wide as the field, as body', () => {
    const ct = ctWithBody(500, [300, 250], [250, 230]);
    const withoutTable = bodyBox(ct);
    // Two 4 mm shells of a couch top 30 mm under the body, 490 mm wide, in every slice.
    for (let k = 0; k < 4; k++) for (const j of [385, 386, 387, 388, 420, 421, 422, 423]) for (let i = 5; i < 495; i++) ct.voxels[i + j * 500 + k * 500 * 500] = 200;
    expect(withoutTable).not.toBeNull();
    expect(bodyBox(ct)).toEqual(withoutTable);
  });

  it('leaves a 380 mm field, a blank image and a NaN image alone', () => {
    expect(bodyBox(ctWithBody(380, [300, 260]))).toBeNull();
    expect(bodyBox({ ...ctWithBody(100, [0, 0]), voxels: new Int16Array(100 * 100 * 4).fill(40) })).toBeNull();
    const nan: Volume<Float32Array> = { voxels: new Float32Array(500 * 500 * 4).fill(Number.NaN), dimensions: [500, 500, 4], spacing: [1, 1, 5], origin: [0, 0, 0], direction: AXIAL };
    expect(bodyBox(nan)).toBeNull();
  });
});

