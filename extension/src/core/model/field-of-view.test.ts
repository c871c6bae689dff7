import { indexToWorld, type Vec3, type Volume } from '../volume';
import {
  BODY_FIELD, bodyBox, clearBeyondGrid, cranioCaudalExtentMm, cropBox, describePaddedField, endSliceAreasMm2, FIELD_OF_VIEW, mayNarrowField,
  MODEL_FIELD, narrowedField, paddedBox, paddedField, placeBox, sliceBox,
} from './field-of-view';

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

  it('keeps at least the shortest model field, from real slices, when the first pass found little liver', () => {
    // 500 mm series, liver in slices 50-51 only: 60 + 10 + 30 = 100 mm would be kept; 140 mm (28 slices) are.
    const mask = maskVolume([6, 6, 100], [2, 2, 5], AXIAL, ([, , k]) => k === 50 || k === 51);
    const field = narrowedField(mask)!;
    expect(field.stop - field.start).toBe(MODEL_FIELD.minCranioCaudalMm / 5);
    expect(field.start).toBeLessThanOrEqual(50 - 12);
    expect(field.stop).toBeGreaterThanOrEqual(52 + 6);
    // Near the series' end the slices come from the side that has them.
    const low = narrowedField(maskVolume([6, 6, 100], [2, 2, 5], AXIAL, ([, , k]) => k === 1))!;
    expect([low.start, low.stop]).toEqual([0, 28]);
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

describe('paddedBox: a short series is given to the model padded to its shortest field', () => {
  /** A CT with something in it (two values) on the given grid. */
  const ctOn = (dimensions: Vec3, spacing: Vec3, direction: Direction = AXIAL): Volume<Int16Array> => {
    const voxels = new Int16Array(dimensions[0] * dimensions[1] * dimensions[2]).fill(40);
    voxels[0] = -1000;
    return { voxels, dimensions, spacing, origin: [0, 0, 0], direction };
  };

  it('pads a 100 mm slab to 140 mm head to feet, evenly, and nothing across', () => {
    expect(paddedBox(ctOn([300, 300, 20], [1, 1, 5]), null)).toEqual({ start: [0, 0, -4], stop: [300, 300, 24] });
    expect(MODEL_FIELD.minCranioCaudalMm).toBe(140);
    // Within a body box: the box's in-plane crop is kept.
    const box = { start: [75, 60, 0] as Vec3, stop: [425, 410, 20] as Vec3 };
    expect(paddedBox(ctOn([500, 500, 20], [1, 1, 5]), box)).toEqual({ start: [75, 60, -4], stop: [425, 410, 24] });
  });

  it('leaves a series of 140 mm or more, and a blank one, as they are', () => {
    expect(paddedBox(ctOn([300, 300, 28], [1, 1, 5]), null)).toBeNull();
    expect(paddedBox({ ...ctOn([300, 300, 20], [1, 1, 5]), voxels: new Int16Array(300 * 300 * 20) }, null)).toBeNull();
    expect(paddedBox({ ...ctOn([30, 30, 20], [10, 10, 5]), voxels: new Float32Array(30 * 30 * 20).fill(Number.NaN) }, null)).toBeNull();
  });

  it('pads along whichever index axis runs head to feet, and adds at most twice what the series has', () => {
    // Sagittal: index i runs head to feet (25 x 4 mm = 100 mm).
    expect(paddedBox(ctOn([25, 40, 40], [4, 1, 1], SAGITTAL), null)).toEqual({ start: [-5, 0, 0], stop: [30, 40, 40] });
    // 3 slices of 1 mm are not made into 140: at most 9.
    expect(paddedBox(ctOn([40, 40, 3], [1, 1, 1]), null)).toEqual({ start: [0, 0, -3], stop: [40, 40, 6] });
  });

  it('copies a padded box with the end slices repeated, and drops what lies beyond the series on the way back', () => {
    const ct: Volume<Int16Array> = {
      voxels: Int16Array.from({ length: 4 * 3 * 2 }, (_, n) => n),
      dimensions: [4, 3, 2],
      spacing: [1, 1, 1],
      origin: [0, 0, 0],
      direction: AXIAL,
    };
    const box = { start: [0, 0, -2] as Vec3, stop: [4, 3, 4] as Vec3 };
    const padded = cropBox(ct, box);
    expect(padded.dimensions).toEqual([4, 3, 6]);
    expect(padded.origin).toEqual([0, 0, -2]);
    const slice = (k: number) => Array.from(padded.voxels.subarray(k * 12, (k + 1) * 12));
    const first = Array.from(ct.voxels.subarray(0, 12));
    const last = Array.from(ct.voxels.subarray(12, 24));
    expect([0, 1, 2].map(slice)).toEqual([first, first, first]);
    expect([3, 4, 5].map(slice)).toEqual([last, last, last]);

    const mask: Volume<Uint8Array> = { ...padded, voxels: new Uint8Array(padded.voxels.length).fill(1) };
    expect(clearBeyondGrid(mask, box, ct.dimensions)).toBe(24);
    expect(Array.from(mask.voxels)).toEqual([...new Array(24).fill(0), ...new Array(24).fill(1), ...new Array(24).fill(0)]);
    expect(placeBox(mask, ct, box).voxels).toEqual(new Uint8Array(24).fill(1));
    // Beyond the grid across too (not made by paddedBox, but cropBox and clearBeyondGrid take any box).
    const wide = { start: [-1, 0, 0] as Vec3, stop: [5, 3, 2] as Vec3 };
    expect(Array.from(cropBox(ct, wide).voxels.subarray(0, 6))).toEqual([0, 0, 1, 2, 3, 3]);
    expect(clearBeyondGrid({ ...cropBox(ct, wide), voxels: new Uint8Array(36).fill(1) }, wide, ct.dimensions)).toBe(24);
  });

  it('says what was padded, in mm', () => {
    const field = paddedField(ctOn([380, 380, 20], [1, 1, 5]), { start: [0, 0, -4], stop: [380, 380, 24] });
    expect(field).toEqual({ seriesMm: 100, seenMm: 140 });
    expect(describePaddedField(field)).toBe('Short series (100 mm head to feet): the model saw it with its end slices repeated to 140 mm.');
  });
});

describe('endSliceAreasMm2: how much liver the series ends in', () => {
  it('measures the liver in the head-most and feet-most slices, whichever way the slices run', () => {
    // 10 x 10 pixels of 2 x 3 mm; the liver fills 4 pixels of slice 0 and 10 of slice 4.
    const liver = ([i, j, k]: Vec3) => (k === 0 && i < 2 && j < 2) || (k === 4 && j === 5);
    expect(endSliceAreasMm2(maskVolume([10, 10, 5], [2, 3, 5], AXIAL, liver))).toEqual({ head: 60, feet: 24 });
    expect(endSliceAreasMm2(maskVolume([10, 10, 5], [2, 3, 5], AXIAL_HEAD_FIRST, liver))).toEqual({ head: 24, feet: 60 });
    expect(endSliceAreasMm2(maskVolume([10, 10, 5], [2, 3, 5], AXIAL, ([, , k]) => k === 2))).toEqual({ head: 0, feet: 0 });
  });
});

