/**
 * Generates the project's synthetic data under var/ (git-ignored). Idempotent: what exists is kept.
 *
 *   npx tsx scripts/generate-data.ts [--what demo|training|all] [--count 40] [--var DIR]
 *                                    [--liver-shapes chaos|DIR] [--out DIR]
 *
 *   demo      var/studies/phantom/ (DICOM CT, phantom seed 1), phantom-liver.nii.gz, phantom.json
 *   training  var/datasets/phantom-msd/ (MSD Task03 layout, --count phantoms at 192x192x80, 1.9x1.9x3 mm)
 *             --liver-shapes: real liver shapes from label_*.nii.gz files (label 1 = liver); "chaos" is
 *             ../shared/data/mr/chaos-t2 (CC BY-SA 4.0). The default output folder is then
 *             var/datasets/phantom-msd-chaos (or give --out).
 *
 * The default is demo (what the viewer needs); see docs/data.md.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDemoStudy } from './data/demo-study';
import { generateMsdDataset } from './data/msd-dataset';
import { readNifti } from '../extension/src/core/nifti';
import type { LiverShape } from '../synthetic/liver-shape';

const REPO_ROOT = resolve(__dirname, '..');

function main(): void {
  const { values } = parseArgs({
    options: {
      what: { type: 'string', default: 'demo' },
      count: { type: 'string', default: '40' },
      var: { type: 'string', default: join(REPO_ROOT, 'var') },
      'liver-shapes': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('Usage: npx tsx scripts/generate-data.ts [--what demo|training|all] [--count N] [--var DIR] [--liver-shapes chaos|DIR] [--out DIR]');
    return;
  }
  const what = values.what ?? 'demo';
  if (!['demo', 'training', 'all'].includes(what)) {
    console.error(`generate-data: --what must be demo, training or all (got "${what}").`);
    process.exitCode = 2;
    return;
  }
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1) {
    console.error(`generate-data: --count must be a positive integer (got "${values.count}").`);
    process.exitCode = 2;
    return;
  }
  const varDir = resolve(values.var ?? join(REPO_ROOT, 'var'));
  const log = (line: string) => console.log(`generate-data: ${line}`);
  if (what === 'demo' || what === 'all') ensureDemoStudy(varDir, log);
  if (what === 'training' || what === 'all') {
    const shapesOption = values['liver-shapes'];
    const liverShapes = shapesOption ? loadLiverShapes(shapesOption) : undefined;
    const defaultName = shapesOption ? (shapesOption === 'chaos' ? 'phantom-msd-chaos' : 'phantom-msd-shapes') : 'phantom-msd';
    const root = resolve(values.out ?? join(varDir, 'datasets', defaultName));
    if (liverShapes) log(`training set: ${liverShapes.length} real liver shapes from ${shapesOption}`);
    const started = performance.now();
    const { written, kept } = generateMsdDataset(root, { count, liverShapes }, log);
    log(`training set: ${written} written, ${kept} kept, in ${root} (${Math.round(performance.now() - started)} ms)`);
  }
}

/**
 * The label masks of a folder, sorted by name: label_*.nii.gz (CHAOS: liver = 1), or every NIfTI in
 * its labelsTr/ (MSD Task03: liver = 1, tumour = 2, both liver here).
 */
function loadLiverShapes(option: string): LiverShape[] {
  const folder = option === 'chaos' ? resolve(process.env.RT_LIVER_SHARED_DATA ?? join(REPO_ROOT, '..', 'shared', 'data'), 'mr', 'chaos-t2') : resolve(option);
  if (!existsSync(folder)) throw new Error(`--liver-shapes: ${folder} does not exist (for "chaos", ../shared/data must be present).`);
  const labelsDir = existsSync(join(folder, 'labelsTr')) ? join(folder, 'labelsTr') : folder;
  const isMsd = labelsDir !== folder;
  const names = readdirSync(labelsDir).filter((name) => /\.nii(\.gz)?$/.test(name) && !name.startsWith('.') && (isMsd || name.startsWith('label_')));
  if (names.length === 0) throw new Error(`--liver-shapes: no label NIfTI files in ${labelsDir}.`);
  return names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((name) => ({ mask: readNifti(readFileSync(join(labelsDir, name))), labels: isMsd ? [1, 2] : [1], name }));
}

main();
