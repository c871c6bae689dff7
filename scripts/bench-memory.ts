/**
 * How rt-liver segment's peak memory grows with the CT: generated 512 x 512 abdominal phantoms of
 * several slice counts, written as DICOM series (var/bench/memory/, git-ignored), each run through
 * `rt-liver bench --input` (fresh processes, medians). Fits the memory a run adds over its start
 * (Node and the CLI) as fixed + slope x CT bytes: the fixed part is onnxruntime and the model's
 * activations on its 64x128x128 grid, the slope is what the CT itself costs.
 *
 *   npx tsx scripts/bench-memory.ts [--slices 51,102,204] [--runs 3] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { EndToEndReport } from '../extension/src/cli/commands/bench-cli';
import { writeCtSeries } from '../extension/src/core/synthetic/ct-series-writer';
import { makeAbdomenPhantom } from '../extension/src/core/synthetic/phantom';

const REPO_ROOT = resolve(__dirname, '..');
const BIN = join(REPO_ROOT, 'extension', 'bin', 'rt-liver.cjs');

/** A 512 x 512 x `slices` phantom covering the same 250 mm of abdomen, as a DICOM folder (kept between runs). */
function phantomSeries(slices: number): string {
  const folder = join(REPO_ROOT, 'var', 'bench', 'memory', `phantom-512x512x${slices}`);
  if (existsSync(join(folder, 'done'))) return folder;
  mkdirSync(folder, { recursive: true });
  const { ct } = makeAbdomenPhantom({ seed: 1, dimensions: [512, 512, slices], spacing: [0.7, 0.7, 250 / slices] });
  for (const file of writeCtSeries(ct, { seed: `memory-${slices}` }).files) writeFileSync(join(folder, file.name), new Uint8Array(file.bytes));
  writeFileSync(join(folder, 'done'), '');
  return folder;
}

/** Least squares y = a + b x. */
function fitLine(xs: number[], ys: number[]): { fixed: number; slope: number } {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  const sxy = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0);
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { fixed: my - slope * mx, slope };
}

function main(): void {
  const { values } = parseArgs({
    options: { slices: { type: 'string', default: '51,102,204' }, runs: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } },
  });
  const sliceCounts = values.slices!.split(',').map(Number);
  if (sliceCounts.some((n) => !Number.isInteger(n) || n < 2)) throw new Error(`--slices: slice counts >= 2, comma-separated (got "${values.slices}").`);
  const rows = sliceCounts.map((slices) => {
    const folder = phantomSeries(slices);
    const child = spawnSync(process.execPath, [BIN, 'bench', '--input', folder, '--runs', values.runs!, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.status !== 0) throw new Error(`rt-liver bench --input ${folder} failed.`);
    const report = JSON.parse(child.stdout) as EndToEndReport;
    const added = report.peak_rss_mb.median - report.rss_at_start_mb;
    return { slices, ct_mb: report.ct_mb, peak_rss_mb: report.peak_rss_mb.median, rss_at_start_mb: report.rss_at_start_mb, added_mb: added, peak_to_ct: report.peak_rss_to_ct, added_to_ct: added / report.ct_mb };
  });
  const fit = fitLine(rows.map((r) => r.ct_mb), rows.map((r) => r.added_mb));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ rows, fit, runs: Number(values.runs), node: process.version })}\n`);
    return;
  }
  const f = (x: number) => x.toFixed(1);
  console.log('slices | CT MB | peak RSS MB | at start MB | added MB | peak / CT | added / CT');
  for (const r of rows) console.log(`${r.slices} | ${f(r.ct_mb)} | ${f(r.peak_rss_mb)} | ${f(r.rss_at_start_mb)} | ${f(r.added_mb)} | ${f(r.peak_to_ct)} | ${f(r.added_to_ct)}`);
  console.log(`added memory ~ ${f(fit.fixed)} MB fixed + ${fit.slope.toFixed(2)} x the CT's bytes (medians of ${values.runs} runs each)`);
}

main();
