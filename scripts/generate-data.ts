/**
 * Generates the project's synthetic data under var/ (git-ignored). Idempotent: what exists is kept.
 *
 *   npx tsx scripts/generate-data.ts [--what demo|training|all] [--count 40] [--var DIR]
 *
 *   demo      var/studies/phantom/ (DICOM CT, phantom seed 1), phantom-liver.nii.gz, phantom.json
 *   training  var/datasets/phantom-msd/ (MSD Task03 layout, --count phantoms at 192x192x80, 1.9x1.9x3 mm)
 *
 * The default is demo (what the viewer needs); see docs/data.md.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDemoStudy } from './data/demo-study';
import { generateMsdDataset } from './data/msd-dataset';

const REPO_ROOT = resolve(__dirname, '..');

function main(): void {
  const { values } = parseArgs({
    options: {
      what: { type: 'string', default: 'demo' },
      count: { type: 'string', default: '40' },
      var: { type: 'string', default: join(REPO_ROOT, 'var') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('Usage: npx tsx scripts/generate-data.ts [--what demo|training|all] [--count N] [--var DIR]');
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
    const root = join(varDir, 'datasets', 'phantom-msd');
    const started = performance.now();
    const { written, kept } = generateMsdDataset(root, { count }, log);
    log(`training set: ${written} written, ${kept} kept, in ${root} (${Math.round(performance.now() - started)} ms)`);
  }
}

main();
