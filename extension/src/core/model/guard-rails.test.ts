/**
 * The guard rails on generated CTs: the phantom's true liver gives no warning; the same liver pushed
 * up into the chest, a blob over the lung, a blank CT, a CT without a body, NaN voxels and implausible
 * volumes each give the warning that says so. Bowel gas under the liver is not lung.
 */
import { makeAbdomenPhantom } from '../../../../synthetic/phantom';
import { voxelVolumeMl, type Vec3, type Volume } from '../volume';
import {
  ABOVE_DIAPHRAGM_MIN_ML,
  countNonFinite,
  cutLiverWarnings,
  LIVER_CUT_MIN_MM2,
  hasNoBody,
  isNotHounsfield,
  inputWarnings,
  isBlank,
  maskAboveDiaphragmMl,
  maskOnModelGrid,
  resultWarnings,
  summarizeInput,
} from './guard-rails';
import { preprocess } from './preprocess';

const MODEL_INPUT = { shape: [1, 1, 64, 128, 128] as [1, 1, number, number, number], huWindow: [-200, 300] as [number, number] };
const phantom = makeAbdomenPhantom({ seed: 'guard-rails', dimensions: [160, 128, 72], spacing: [2.4, 2.4, 5] });
const prepared = preprocess(phantom.ct, MODEL_INPUT);
const summary = prepared.summary;

function aboveMl(mask: Volume<Uint8Array>): number {
  return maskAboveDiaphragmMl(summary, maskOnModelGrid(mask, prepared.reorientation, summary.dims));
}

/** The liver mask moved `slices` slices towards the head. */
function shiftedUp(mask: Volume<Uint8Array>, slices: number): Volume<Uint8Array> {
  const [nx, ny, nz] = mask.dimensions;
  const voxels = new Uint8Array(mask.voxels.length);
  voxels.set(mask.voxels.subarray(0, nx * ny * (nz - slices)), nx * ny * slices);
  return { ...mask, voxels };
}

function volumeMl(mask: Volume<Uint8Array>): number {
  return mask.voxels.reduce((sum, value) => sum + value, 0) * voxelVolumeMl(mask);
}

test('the phantom has lung in its upper slices, and its true liver lies below it', () => {
  expect(summary.lungMl).toBeGreaterThan(500);
  expect(aboveMl(phantom.liver)).toBeLessThan(ABOVE_DIAPHRAGM_MIN_ML);
  expect(resultWarnings(volumeMl(phantom.liver), aboveMl(phantom.liver))).toEqual([]);
  expect(inputWarnings(summary, 0, phantom.ct.voxels.length)).toEqual([]);
});

test('a liver pushed up into the chest is flagged as reaching above the diaphragm', () => {
  const high = shiftedUp(phantom.liver, 8); // 4 cm up
  const ml = aboveMl(high);
  expect(ml).toBeGreaterThan(ABOVE_DIAPHRAGM_MIN_ML);
  const warnings = resultWarnings(volumeMl(high), ml);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/^The liver mask reaches above the diaphragm: about \d+ mL of it lies in the chest, over or between the lungs' bases/);
});

test('a blob in the lung, joined to the liver, is flagged too', () => {
  const [nx, ny, nz] = phantom.ct.dimensions;
  const voxels = phantom.liver.voxels.slice();
  // The lung voxels of a 4.8 x 4.8 x 4 cm box in the top slices, in the right lung (patient right = low i).
  let added = 0;
  for (let k = nz - 8; k < nz; k++) {
    for (let j = 44; j < 64; j++) {
      for (let i = 30; i < 50; i++) {
        const p = i + j * nx + k * nx * ny;
        if (phantom.ct.voxels[p] < -700) {
          voxels[p] = 1;
          added++;
        }
      }
    }
  }
  expect(added * voxelVolumeMl(phantom.ct)).toBeGreaterThan(40);
  const blob = { ...phantom.liver, voxels };
  expect(aboveMl(blob)).toBeGreaterThan(ABOVE_DIAPHRAGM_MIN_ML);
});

test('tissue between the lungs, above their bases (where the heart is), is flagged', () => {
  const [nx, ny, nz] = phantom.ct.dimensions;
  const voxels = phantom.liver.voxels.slice();
  let added = 0;
  const top = (nz - 1) * nx * ny;
  for (let j = 0; j < ny; j++) {
    // The mediastinum of this row in the top slice: between the last lung voxel of the patient's
    // right half and the first of the left half.
    let rightLungEnd = -1;
    let leftLungStart = nx;
    for (let i = 0; i < nx; i++) {
      if (phantom.ct.voxels[top + j * nx + i] >= -700) continue;
      if (i < nx / 2) rightLungEnd = i;
      else if (leftLungStart === nx) leftLungStart = i;
    }
    if (rightLungEnd < 0 || leftLungStart === nx) continue;
    for (let k = nz - 6; k < nz; k++) {
      for (let i = rightLungEnd + 2; i < leftLungStart - 1; i++) {
        const p = i + j * nx + k * nx * ny;
        if (phantom.ct.voxels[p] > -300 && !voxels[p]) {
          voxels[p] = 1;
          added++;
        }
      }
    }
  }
  const addedMl = added * voxelVolumeMl(phantom.ct);
  expect(addedMl).toBeGreaterThan(50);
  const flagged = aboveMl({ ...phantom.liver, voxels });
  // Half of it is found (about 390 of 760 mL; 170 by the lung-below rule alone, so the rule for
  // columns without lung carries the rest): the lower slices of the block lie below the lungs' bases.
  expect(flagged).toBeGreaterThan(0.4 * addedMl);
});

test('bowel gas under the liver is not lung', () => {
  const [nx, ny, nz] = phantom.ct.dimensions;
  // Find the lowest liver slice and put a gas pocket (3 x 3 x 1.5 cm) right under the liver's centre there.
  let lowest = nz;
  let sumI = 0;
  let sumJ = 0;
  let count = 0;
  for (let k = 0; k < nz && lowest === nz; k++) {
    for (let p = k * nx * ny; p < (k + 1) * nx * ny; p++) {
      if (phantom.liver.voxels[p]) {
        lowest = k;
        sumI += p % nx;
        sumJ += Math.floor(p / nx) % ny;
        count++;
      }
    }
  }
  const [ci, cj] = [Math.round(sumI / count), Math.round(sumJ / count)];
  const ct = { ...phantom.ct, voxels: phantom.ct.voxels.slice() };
  for (let k = Math.max(0, lowest - 3); k < lowest; k++) {
    for (let j = cj - 6; j < cj + 6; j++) for (let i = ci - 6; i < ci + 6; i++) ct.voxels[i + j * nx + k * nx * ny] = -1000;
  }
  const withGas = preprocess(ct, MODEL_INPUT);
  const ml = maskAboveDiaphragmMl(withGas.summary, maskOnModelGrid(phantom.liver, withGas.reorientation, withGas.summary.dims));
  expect(ml).toBeLessThan(ABOVE_DIAPHRAGM_MIN_ML);
});

test('gas in the colon under the liver, joined to a lung base by a diaphragm thinner than a coarse voxel, is not lung', () => {
  // A model-grid CT (64 x 64 x 32 voxels of 6 x 6 x 8 mm): lungs in the top slices, the liver under the right
  // one, a 140 mL gas pocket under the liver, and beside the liver a strip where air alternates with
  // partial-volume diaphragm (-300 HU) voxel by voxel from the pocket up to the lung's base. Averaged over
  // 2 x 2 x 2 blocks that strip reads as air and joined the pocket to the lung (totalseg-a: 90 mL of a good
  // mask called "in the chest"); a block is air for the lung map only when all of its voxels are.
  const dims: Vec3 = [64, 64, 32];
  const hu = new Float32Array(dims[0] * dims[1] * dims[2]).fill(-1000);
  const fill = (target: Float32Array | Uint8Array, [nx, ny]: number[], i: number[], j: number[], k: number[], value: number) => {
    for (let z = k[0]; z <= k[1]; z++) for (let y = j[0]; y <= j[1]; y++) for (let x = i[0]; x <= i[1]; x++) target[x + y * nx + z * nx * ny] = value;
  };
  fill(hu, dims, [4, 59], [8, 55], [0, 31], 40); // body
  fill(hu, dims, [8, 26], [14, 48], [22, 31], -850); // right lung, its base at slice 22
  fill(hu, dims, [38, 56], [14, 48], [22, 31], -850); // left lung
  fill(hu, dims, [8, 31], [16, 47], [10, 21], 60); // liver, under the right lung
  fill(hu, dims, [8, 17], [24, 35], [5, 8], -1000); // gas in the colon under the liver
  fill(hu, dims, [6, 6], [20, 40], [5, 23], -1000); // the strip beside the liver: air ...
  fill(hu, dims, [7, 7], [20, 40], [5, 23], -300); // ... and partial-volume diaphragm
  const coarse = summarizeInput(hu, dims, [6, 6, 8]);
  expect(coarse.dims).toEqual([32, 32, 16]);
  expect(coarse.lungMl).toBeGreaterThan(500); // the lungs are found
  // The liver on the summary's grid (half the model grid): slices 5-10, under the lungs' bases at slice 11.
  const liver = new Uint8Array(32 * 32 * 16);
  fill(liver, coarse.dims, [4, 15], [8, 23], [5, 10], 1);
  expect(maskAboveDiaphragmMl(coarse, liver)).toBeLessThan(ABOVE_DIAPHRAGM_MIN_ML);
  // The same liver raised into the lungs' bases is still flagged: the check still sees these lungs.
  const raised = new Uint8Array(liver.length);
  fill(raised, coarse.dims, [4, 15], [8, 23], [7, 13], 1);
  expect(maskAboveDiaphragmMl(coarse, raised)).toBeGreaterThan(ABOVE_DIAPHRAGM_MIN_ML);
});

test('a blank CT and a CT without a body are named as such', () => {
  const blankCt: Volume<Int16Array> = { ...phantom.ct, voxels: new Int16Array(phantom.ct.voxels.length).fill(-1024) };
  const blank = preprocess(blankCt, MODEL_INPUT).summary;
  expect(isBlank(blank)).toBe(true);
  expect(inputWarnings(blank, 0, blankCt.voxels.length)).toEqual([
    'The CT is blank: every voxel has the same value (-1024 HU). There is no image to segment: the mask means nothing.',
  ]);
  const speck = blankCt.voxels.slice();
  speck.fill(40, 0, 200); // a few voxels of tissue in a sea of air
  const empty = preprocess({ ...blankCt, voxels: speck }, MODEL_INPUT).summary;
  expect(isBlank(empty)).toBe(false);
  expect(hasNoBody(empty)).toBe(true);
  expect(inputWarnings(empty, 0, speck.length)[0]).toMatch(/^The CT shows no body: only 0\.\d+ % of it is denser than air/);
});

test('values that are not Hounsfield units are named, and a CT in them is not', () => {
  const inHu = preprocess(phantom.ct, MODEL_INPUT).summary;
  expect(isNotHounsfield(inHu)).toBe(false);
  expect(inputWarnings(inHu, 0, phantom.ct.voxels.length)).toEqual([]);
  // The same CT stored without its rescale intercept (CT numbers, air at 0), and scaled to 0-1.
  const unscaled = preprocess({ ...phantom.ct, voxels: Int16Array.from(phantom.ct.voxels, (hu) => hu + 1024) }, MODEL_INPUT).summary;
  expect(isNotHounsfield(unscaled)).toBe(true);
  expect(inputWarnings(unscaled, 0, phantom.ct.voxels.length)).toEqual([
    expect.stringMatching(/^The CT's values are not Hounsfield units: its darkest region reads -?\d+(\.\d)? HU, where air reads about -1000 HU and fat about -100 HU\..* The mask means nothing\.$/),
  ]);
  const unit = preprocess({ ...phantom.ct, voxels: Float32Array.from(phantom.ct.voxels, (hu) => (hu + 1024) / 4096) }, MODEL_INPUT).summary;
  expect(isNotHounsfield(unit)).toBe(true);
  // A blank CT is named blank, not this.
  const blank = preprocess({ ...phantom.ct, voxels: new Int16Array(phantom.ct.voxels.length).fill(40) }, MODEL_INPUT).summary;
  expect(isNotHounsfield(blank)).toBe(false);
  // A field under 150 mm across may lie inside one organ: the same CT numbers on a 140 mm field are not judged.
  const narrow = { ...phantom.ct, spacing: [140 / phantom.ct.dimensions[0], 140 / phantom.ct.dimensions[1], phantom.ct.spacing[2]] as Vec3 };
  expect(isNotHounsfield(preprocess({ ...narrow, voxels: Int16Array.from(phantom.ct.voxels, (hu) => hu + 1024) }, MODEL_INPUT).summary)).toBe(false);
});

test('NaN and infinite voxels are counted and named', () => {
  const values = Float32Array.from(phantom.ct.voxels);
  values[10] = Number.NaN;
  values[20] = Number.POSITIVE_INFINITY;
  values[30] = Number.NEGATIVE_INFINITY;
  expect(countNonFinite(values)).toBe(3);
  expect(countNonFinite(phantom.ct.voxels)).toBe(0);
  const floatCt: Volume<Float32Array> = { ...phantom.ct, voxels: values };
  const warnings = inputWarnings(preprocess(floatCt, MODEL_INPUT).summary, 3, values.length);
  expect(warnings).toEqual([expect.stringMatching(/^3 of the CT's 1,474,560 voxels are not numbers \(NaN or infinite\) and were read as air/)]);
});

test.each([
  [0, /^No liver was found in this CT/],
  [320, /^The liver volume is 320 mL, implausibly small for an adult liver \(below 0\.5 L/],
  [11_400, /^The liver volume is 11\.40 L, implausibly large for a liver \(over 4 L/],
])('a liver of %d mL is implausible', (ml, message) => {
  expect(resultWarnings(ml, 0)).toEqual([expect.stringMatching(message)]);
});

test.each([[500], [1623], [4000]])('a liver of %d mL is plausible', (ml) => {
  expect(resultWarnings(ml, 0)).toEqual([]);
});

test('the model-grid mask keeps the volume (nearest voxel centre)', () => {
  const grid = maskOnModelGrid(phantom.liver, prepared.reorientation, summary.dims);
  const ml = grid.reduce((sum, value) => sum + value, 0) * summary.voxelMm.reduce((product, size) => product * size, 1) / 1000;
  expect(Math.abs(ml / volumeMl(phantom.liver) - 1)).toBeLessThan(0.1);
  expect(summary.dims).toEqual([64, 64, 32] as Vec3); // the guard rails' half-resolution grid
});

describe('cutLiverWarnings: a series that ends inside the liver', () => {
  it('says which end cuts the liver and that the volume is of the part shown', () => {
    expect(cutLiverWarnings({ head: 0, feet: 13_000 }, 1273)).toEqual([
      'The series ends inside the liver at the feet (130 cm² of liver in its bottom slice): part of the liver lies outside the series, ' +
        'so 1.27 L is the volume of the part shown, not of the whole liver. For the whole liver, use a series that covers it from dome to tip.',
    ]);
    expect(cutLiverWarnings({ head: 18_900, feet: 1_800 }, 1445)[0]).toMatch(/^The series ends inside the liver at the head and at the feet \(189 and 18 cm² of liver in its first and last slices\)/);
  });

  it('stays silent for a dome or tip sliver under 5 cm², and for an empty mask', () => {
    expect(LIVER_CUT_MIN_MM2).toBe(500);
    expect(cutLiverWarnings({ head: 499, feet: 0 }, 1800)).toEqual([]);
    expect(cutLiverWarnings({ head: 0, feet: 0 }, 1800)).toEqual([]);
    expect(cutLiverWarnings({ head: 5000, feet: 0 }, 0)).toEqual([]);
  });
});
