/**
 * Timings of the data generators (a benchmark, not a test): medians of several runs.
 *
 *   npx tsx scripts/data/bench.ts [--runs 5]
 */
import { parseArgs } from 'node:util';
import { readNifti, writeNifti } from '../../extension/src/core/nifti';
import { writeCtSeries } from '../../synthetic/ct-series-writer';
import { makeAbdomenPhantom } from '../../synthetic/phantom';
import { startOrthanc, uploadDicom } from '../orthanc/launcher';
import { TRAINING_DIMENSIONS, TRAINING_SPACING } from './msd-dataset';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function time<T>(runs: number, work: (run: number) => T | Promise<T>): Promise<{ ms: number[]; result: T }> {
  const ms: number[] = [];
  let result!: T;
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    result = await work(run);
    ms.push(performance.now() - started);
  }
  return { ms, result };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
  const runs = Number(values.runs);
  const rows: [string, number[]][] = [];
  const demo = await time(runs, (run) => makeAbdomenPhantom({ seed: 1 + run }));
  rows.push(['phantom 256x256x96 (demo size)', demo.ms]);
  rows.push(['phantom 192x192x80 (training size)', (await time(runs, (run) => makeAbdomenPhantom({ seed: 1000 + run, dimensions: TRAINING_DIMENSIONS, spacing: TRAINING_SPACING }))).ms]);
  const ct = demo.result.ct;
  const series = await time(runs, () => writeCtSeries(ct, { seed: 'bench' }));
  rows.push(['writeCtSeries 96 slices of 256x256', series.ms]);
  const gz = await time(runs, () => writeNifti(ct, { gzip: true }));
  rows.push(['writeNifti CT 256x256x96 gzip level 6', gz.ms]);
  rows.push(['writeNifti CT 256x256x96 gzip level 3', (await time(runs, () => writeNifti(ct, { gzip: true, gzipLevel: 3 }))).ms]);
  rows.push(['readNifti CT 256x256x96 .nii.gz', (await time(runs, () => readNifti(gz.result))).ms]);
  const plain = writeNifti(ct);
  rows.push(['readNifti CT 256x256x96 .nii', (await time(runs, () => readNifti(plain))).ms]);
  const orthancStarts: number[] = [];
  const uploads: number[] = [];
  for (let run = 0; run < Math.min(runs, 3); run++) {
    const started = performance.now();
    const orthanc = await startOrthanc();
    orthancStarts.push(performance.now() - started);
    const uploadStarted = performance.now();
    for (const file of series.result.files) await uploadDicom(orthanc, file.bytes);
    uploads.push(performance.now() - uploadStarted);
    await orthanc.stop();
  }
  rows.push(['startOrthanc (until /system answers)', orthancStarts]);
  rows.push(['upload demo series to Orthanc (96 files, REST)', uploads]);
  console.log(`| step | n | median ms | min | max |\n|---|---|---|---|---|`);
  for (const [name, ms] of rows) {
    console.log(`| ${name} | ${ms.length} | ${median(ms).toFixed(0)} | ${Math.min(...ms).toFixed(0)} | ${Math.max(...ms).toFixed(0)} |`);
  }
}

void main();
