/**
 * How rt-liver segment's peak memory grows with the CT: generated 512 x 512 abdominal phantoms of
 * several slice counts, written as DICOM series (var/bench/memory/, git-ignored), each run through
 * `rt-liver bench --input` (fresh processes, medians). Reports the memory a run adds over its start
 * (Node and the CLI), against the CT's bytes, and the stage that holds the peak: for small CTs it is
 * inference, whose working set (onnxruntime and the model's activations on its 64x128x128 grid) does
 * not depend on the CT; for large CTs it is a stage that holds the CT or the mask. Also the smallest
 * CT, interpolated between rows, from which the added memory stays under 3 x the CT's bytes.
 *
 *   npx tsx scripts/bench-memory.ts [--slices 51,77,102,204] [--runs 3] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { EndToEndReport } from '../cli/src/commands/bench-cli';
import { writeCtSeries } from '../synthetic/ct-series-writer';
import { makeAbdomenPhantom } from '../synthetic/phantom';

const REPO_ROOT = resolve(__dirname, '..');
const BIN = join(REPO_ROOT, 'cli', 'bin', 'rt-liver.cjs');

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

/** The smallest slice count from which added / CT stays at or under `ratio`, by linear interpolation between rows. */
function slicesFromWhichUnder(rows: Array<{ slices: number; added_to_ct: number }>, ratio: number): number | undefined {
  for (let i = rows.length - 1; i >= 0; i--) {
    if (rows[i].added_to_ct > ratio) {
      if (i === rows.length - 1) return undefined;
      const [a, b] = [rows[i], rows[i + 1]];
      return Math.ceil(a.slices + ((a.added_to_ct - ratio) / (a.added_to_ct - b.added_to_ct)) * (b.slices - a.slices));
    }
  }
  return rows[0]?.slices;
}

function main(): void {
  const { values } = parseArgs({
    options: { slices: { type: 'string', default: '51,77,102,204' }, runs: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } },
  });
  const sliceCounts = values.slices!.split(',').map(Number).sort((a, b) => a - b);
  if (sliceCounts.some((n) => !Number.isInteger(n) || n < 2)) throw new Error(`--slices: slice counts >= 2, comma-separated (got "${values.slices}").`);
  const rows = sliceCounts.map((slices) => {
    const folder = phantomSeries(slices);
    const child = spawnSync(process.execPath, [BIN, 'bench', '--input', folder, '--runs', values.runs!, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.status !== 0) throw new Error(`rt-liver bench --input ${folder} failed.`);
    const report = JSON.parse(child.stdout) as EndToEndReport;
    const added = report.peak_rss_mb.median - report.rss_at_start_mb;
    const peakStage = [...new Set(report.peak_stages)].join('/');
    return { slices, ct_mb: report.ct_mb, peak_rss_mb: report.peak_rss_mb.median, rss_at_start_mb: report.rss_at_start_mb, added_mb: added, peak_to_ct: report.peak_rss_to_ct, added_to_ct: added / report.ct_mb, peak_stage: peakStage };
  });
  const underThreeFrom = slicesFromWhichUnder(rows, 3);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ rows, under_3x_from_slices: underThreeFrom ?? null, runs: Number(values.runs), node: process.version })}\n`);
    return;
  }
  const f = (x: number) => x.toFixed(1);
  console.log('slices | CT MB | peak RSS MB | at start MB | added MB | peak / CT | added / CT | peak during');
  for (const r of rows) console.log(`${r.slices} | ${f(r.ct_mb)} | ${f(r.peak_rss_mb)} | ${f(r.rss_at_start_mb)} | ${f(r.added_mb)} | ${f(r.peak_to_ct)} | ${f(r.added_to_ct)} | ${r.peak_stage}`);
  console.log(`medians of ${values.runs} runs each; added memory under 3 x the CT's bytes ${underThreeFrom === undefined ? 'for none of these sizes' : `from about ${underThreeFrom} slices on`}`);
}

main();
