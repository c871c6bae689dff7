/**
 * The release gate: the shipped default model must still find the liver, run as users run it
 * (`rt-liver segment` in a child process, the manifest's pre-processing, the core's post-processing).
 *
 * - On a generated abdominal phantom (no data needed): Dice against the phantom's own liver label.
 * - On ct/ircadb-17 when ../shared/data is present: Dice against the manual liver mask, and the volume.
 * - On a 386 mm series made of ircadb-17 and totalseg-a's pelvis: the same, through the core's second pass on the
 *   slices around the liver (without it the heart enters the mask: 0.873, +15 %; training/results/robustness.md),
 *   and on ircadb-17 padded to a 500 mm field, through the crop to the body (without it 0.901).
 *
 * The floors sit a little under what the shipped default reaches (0.896 and 0.919, models/student-30k.md), so a
 * broken pre-processing contract fails them: with the manifest's HU window set to [-1000, 1000] the
 * phantom Dice drops far below its floor (checked by hand when the floors were set; see the README).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInput } from '../../cli/src/io';
import { writeNifti } from '../../extension/src/core/nifti';
import { compareMasks, binarize, type MaskAgreement } from '../../extension/src/core/model/evaluate';
import { makeAbdomenPhantom } from '../../synthetic/phantom';
import type { Volume } from '../../extension/src/core/volume';
import { describeWithSharedData, SHARED_DATA_ROOT } from '../support/shared-data';

const ROOT = join(__dirname, '..', '..');
/** RT_LIVER_GATE_MODELS_DIR: gate a candidate folder (manifest.json + ONNX) before it replaces models/. */
const MODELS = process.env.RT_LIVER_GATE_MODELS_DIR ?? join(ROOT, 'models');

/** Floors for the shipped default (a little under the measured values in training/results/real-ct.md). */
const PHANTOM_DICE_FLOOR = 0.86;
const IRCADB17_DICE_FLOOR = 0.88;
/** The 386 mm construct below: 0.920 measured with the second pass, 0.873 (+15 % volume, the heart) without. */
const LONG_SERIES_DICE_FLOOR = 0.9;
/** ircadb-17 padded with air to a 500 mm field: 0.921 with the crop to the body, 0.901 without. */
const WIDE_FIELD_DICE_FLOOR = 0.91;
/** ircadb-17 from 20 mm above the dome to mid-liver (99 mm): 0.912 / -8.5 % with the end slices repeated to 140 mm, 0.888 / -15 % without. */
const SLAB_DICE_FLOOR = 0.9;

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rt-liver-model-gate-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function defaultModel(): string {
  return JSON.parse(readFileSync(join(MODELS, 'manifest.json'), 'utf8')).default as string;
}

/** `rt-liver segment INPUT --mask` with the default model; returns the mask read back and the report. */
async function segment(input: string, name: string): Promise<{ mask: Volume<Uint8Array>; report: Record<string, unknown> }> {
  const maskPath = join(work, `${name}.nii.gz`);
  const run = spawnSync('npx', ['--no-install', 'rt-liver', 'segment', input, '--mask', maskPath, '--json', '-q',
    '--backend', 'cpu', '--model', defaultModel(), '--models-dir', MODELS], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) throw new Error(`rt-liver segment failed (${run.status}): ${run.stderr}`);
  const loaded = await loadInput(maskPath);
  return { mask: binarize(loaded.volume), report: JSON.parse(run.stdout) };
}

describe('model gate: the shipped default model finds the liver', () => {
  it(`reaches Dice >= ${PHANTOM_DICE_FLOOR} on a generated abdominal phantom`, async () => {
    const phantom = makeAbdomenPhantom({ seed: 'model-gate' });
    const input = join(work, 'phantom.nii.gz');
    writeFileSync(input, new Uint8Array(writeNifti(phantom.ct, { gzip: true })));
    const { mask } = await segment(input, 'phantom-mask');
    const agreement = compareMasks(mask, phantom.liver);
    expect(agreement.dice).toBeGreaterThanOrEqual(PHANTOM_DICE_FLOOR);
  }, 300_000);
});

describeWithSharedData('model gate on real CT with a manual liver label (ircadb-17)', ['ct', 'ircadb-17'], (folder) => {
  it(`reaches Dice >= ${IRCADB17_DICE_FLOOR} and a volume within 10 % of the manual mask's`, async () => {
    const { mask } = await segment(join(folder, 'PATIENT_DICOM'), 'ircadb-17-mask');
    const reference = binarize((await loadInput(join(folder, 'MASKS_DICOM', 'liver'))).volume);
    const agreement = compareMasks(mask, reference);
    expect(agreement.dice).toBeGreaterThanOrEqual(IRCADB17_DICE_FLOOR);
    expect(Math.abs(agreement.volume_difference_percent ?? Infinity)).toBeLessThanOrEqual(10);
  }, 300_000);
});

/** `rt-liver` in a child process, as users run it; its JSON report. */
function rtLiverJson(args: string[]): Record<string, unknown> {
  const run = spawnSync('npx', ['--no-install', 'rt-liver', ...args, '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) throw new Error(`rt-liver ${args[0]} failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/**
 * ircadb-17 made as robustness.py's variant `name` (written by the training package), segmented and scored
 * against its reference by `rt-liver segment` and `rt-liver eval` (the same metrics as compareMasks, in a
 * process of their own: on these 30-60 million voxel grids several times faster than inside jest).
 */
function segmentVariant(name: string): { agreement: MaskAgreement; report: Record<string, unknown> } {
  const made = spawnSync('/usr/bin/python3', ['-m', 'rtliver_train.robustness', '--variants', name, '--data', SHARED_DATA_ROOT,
    '--write-cases', work], {
    cwd: ROOT, encoding: 'utf8', timeout: 300_000, env: { ...process.env, PYTHONPATH: join(ROOT, 'training'), OPENBLAS_NUM_THREADS: '1' },
  });
  if (made.status !== 0) throw new Error(`robustness --write-cases failed (${made.status}): ${made.stderr}`);
  const maskPath = join(work, `${name}-mask.nii.gz`);
  const report = rtLiverJson(['segment', join(work, `${name}.nii`), '--mask', maskPath, '-q', '--backend', 'cpu',
    '--model', defaultModel(), '--models-dir', MODELS]);
  const agreement = rtLiverJson(['eval', maskPath, join(work, `${name}-reference.nii`)]) as unknown as MaskAgreement;
  return { agreement, report };
}

describeWithSharedData('model gate on ircadb-17 in other fields of view (training/results/robustness.md)', ['ct', 'ircadb-17'], () => {
  describeWithSharedData('(needs totalseg-a for the pelvis)', ['ct', 'totalseg-a'], () => {
    it(`a 386 mm series (another patient's pelvis stitched below): Dice >= ${LONG_SERIES_DICE_FLOOR} and a volume within 10 %, the heart above the dome out`, async () => {
      const { agreement, report } = segmentVariant('field-abdomen-pelvis');
      expect(report.narrowed_field).toBeDefined();
      expect(agreement.dice).toBeGreaterThanOrEqual(LONG_SERIES_DICE_FLOOR);
      expect(Math.abs(agreement.volume_difference_percent ?? Infinity)).toBeLessThanOrEqual(10);
      expect(agreement.hd95_mm ?? Infinity).toBeLessThanOrEqual(15); // 11.5 mm measured, 22.8 without the second pass
    }, 600_000);
  });

  it(`a 99 mm slab from the dome to mid-liver: Dice >= ${SLAB_DICE_FLOOR}, a volume within 10 %, and the warning that the liver goes on`, async () => {
    const { agreement, report } = segmentVariant('field-upper');
    expect(report.padded_field).toBeDefined();
    expect(agreement.dice).toBeGreaterThanOrEqual(SLAB_DICE_FLOOR);
    expect(Math.abs(agreement.volume_difference_percent ?? Infinity)).toBeLessThanOrEqual(10);
    expect((report.warnings as string[]).some((w) => w.startsWith('The series ends inside the liver at the feet'))).toBe(true);
  }, 600_000);

  it(`a 500 mm in-plane field (air around the body): Dice >= ${WIDE_FIELD_DICE_FLOOR} and a volume within 10 %`, async () => {
    const { agreement, report } = segmentVariant('field-500mm');
    expect(report.body_box).toBeDefined();
    expect(agreement.dice).toBeGreaterThanOrEqual(WIDE_FIELD_DICE_FLOOR);
    expect(Math.abs(agreement.volume_difference_percent ?? Infinity)).toBeLessThanOrEqual(10);
  }, 600_000);
});
