/**
 * The core's post-processing and metrics give, on test/fixtures/evaluation, exactly what the training
 * package's Python gives (written by `python -m rtliver_train.make_evaluation_fixture`, checked there by
 * training/tests/test_metrics.py): one definition of "the mask the user sees" and of Dice and HD95 in both
 * languages. The case is built so that 26- vs 6-connected surfaces or 3-D vs per-slice hole filling would
 * change the numbers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Vec3, Volume } from '../volume';
import { fillHoleRuns, findRuns, largestComponentRuns, paintRuns, runVoxels } from './components';
import { compareMasks } from './evaluate';

const FIXTURE = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'evaluation');

interface EvaluationCase {
  dims: Vec3;
  spacing: Vec3;
  rawVoxels: number;
  expectedVoxels: number;
  referenceVoxels: number;
  dice: number;
  hd95_mm: number;
}

const description = JSON.parse(readFileSync(join(FIXTURE, 'case.json'), 'utf8')) as EvaluationCase;
const mask = (name: string) => new Uint8Array(readFileSync(join(FIXTURE, `${name}.u8.bin`)));
const onGrid = (voxels: Uint8Array): Volume<Uint8Array> => ({
  dimensions: description.dims,
  spacing: description.spacing,
  origin: [0, 0, 0],
  direction: [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ],
  voxels,
});

describe('evaluation agrees with the Python training package', () => {
  it('post-processing (largest 26-connected component, holes filled per slice) gives the same voxels', () => {
    const raw = mask('raw');
    expect(runVoxels(findRuns(raw, description.dims, 1))).toBe(description.rawVoxels);
    const filled = fillHoleRuns(largestComponentRuns(findRuns(raw, description.dims, 1), description.dims), description.dims);
    const out = new Uint8Array(raw.length);
    paintRuns(out, description.dims, filled);
    const expected = mask('expected');
    expect(runVoxels(filled)).toBe(description.expectedVoxels);
    expect(out.findIndex((value, n) => value !== expected[n])).toBe(-1);
  });

  it('Dice and HD95 equal the Python values', () => {
    const agreement = compareMasks(onGrid(mask('expected')), onGrid(mask('reference')));
    expect(agreement.voxels_ref).toBe(description.referenceVoxels);
    expect(agreement.dice).toBeCloseTo(description.dice, 12);
    expect(agreement.hd95_mm).toBeCloseTo(description.hd95_mm, 9);
  });
});
