/**
 * Benchmark (not a test): time and peak extra memory of writeLiverSeg for a 512x512x200 CT series with
 * a liver-sized mask. Run: npx tsx --expose-gc test/conformance/bench/seg-write.bench.ts [runs]
 *
 * Time: median of `runs` writes in one process. Peak memory: each run in a fresh child process that
 * only reads the CT files and the mask from var/bench (so building them leaves no high-water mark):
 * maxRSS after the write minus maxRSS before it, i.e. what the writer itself adds at its peak. Baseline in the same run: one copy of the CT bytes
 * (Buffer.concat), to relate the writer's time to this machine's memory bandwidth.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeCtSeries } from '../../../extension/src/core/synthetic/ct-series-writer';
import { writeLiverSeg } from '../../../extension/src/core/seg';
import type { Vec3 } from '../../../extension/src/core/volume';

const DIMENSIONS: Vec3 = [512, 512, 200];
const SPACING: Vec3 = [0.78, 0.78, 1.5];
const ORIGIN: Vec3 = [-200, -200, -150];
const FOLDER = resolve(__dirname, '..', '..', '..', 'var', 'bench', 'seg-write');

function buildInputs() {
  const [nx, ny, nz] = DIMENSIONS;
  const geometry = { dimensions: DIMENSIONS, spacing: SPACING, origin: ORIGIN, direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as [Vec3, Vec3, Vec3] };
  const ct = new Int16Array(nx * ny * nz).fill(-1000);
  const mask = new Uint8Array(nx * ny * nz);
  // A liver-sized ellipsoid (about 1.6 L) on slices 40..160.
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const r = Math.hypot((i - 190) / 110, (j - 230) / 90, (k - 100) / 60);
        if (r < 1) mask[i + j * nx + k * nx * ny] = 1;
      }
  const series = writeCtSeries({ ...geometry, voxels: ct }, { seed: 'bench' });
  return { files: series.files.map((file) => file.bytes), mask: { ...geometry, voxels: mask } };
}

function write(inputs: ReturnType<typeof buildInputs>) {
  const result = writeLiverSeg({
    sourceInstances: inputs.files,
    mask: inputs.mask,
    algorithm: { name: 'bench', version: '0' },
    device: { manufacturer: 'rt-liver project', modelName: 'rt-liver', softwareVersions: '0.1.0', serialNumber: 'bench' },
  });
  if (result.status !== 'written') throw new Error('empty');
  return result;
}

function gc() {
  (globalThis as { gc?: () => void }).gc?.();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function saveInputs(inputs: ReturnType<typeof buildInputs>): void {
  rmSync(FOLDER, { recursive: true, force: true });
  mkdirSync(join(FOLDER, 'ct'), { recursive: true });
  inputs.files.forEach((file, index) => writeFileSync(join(FOLDER, 'ct', `${String(index).padStart(4, '0')}.dcm`), new Uint8Array(file)));
  writeFileSync(join(FOLDER, 'mask.u8'), inputs.mask.voxels);
}

function loadInputs(): ReturnType<typeof buildInputs> {
  // Large files get a Buffer of their own: use its ArrayBuffer without a copy (a copy would set the
  // high-water mark before the write starts).
  const toArrayBuffer = (bytes: Buffer) =>
    (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as ArrayBuffer;
  const files = readdirSync(join(FOLDER, 'ct')).map((name) => toArrayBuffer(readFileSync(join(FOLDER, 'ct', name))));
  const voxels = new Uint8Array(toArrayBuffer(readFileSync(join(FOLDER, 'mask.u8'))));
  const direction: [Vec3, Vec3, Vec3] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  return { files, mask: { dimensions: DIMENSIONS, spacing: SPACING, origin: ORIGIN, direction, voxels } };
}

function memoryChild(): void {
  const inputs = loadInputs();
  gc();
  const before = process.resourceUsage().maxRSS;
  const rssBefore = process.memoryUsage().rss / 1024;
  const result = write(inputs);
  const after = process.resourceUsage().maxRSS;
  const ctBytes = inputs.files.reduce((sum, file) => sum + file.byteLength, 0);
  process.stdout.write(JSON.stringify({ extraKiB: after - before, highWaterAboveCurrentKiB: before - rssBefore, ctBytes, segBytes: result.bytes.byteLength, frames: result.frameCount }));
}

function main(): void {
  const runs = Number(process.argv[2] ?? 5);
  const inputs = buildInputs();
  const ctBytes = inputs.files.reduce((sum, file) => sum + file.byteLength, 0);
  const writeMs: number[] = [];
  const copyMs: number[] = [];
  let frames = 0;
  let segBytes = 0;
  for (let run = 0; run < runs; run++) {
    gc();
    let started = performance.now();
    const result = write(inputs);
    writeMs.push(performance.now() - started);
    frames = result.frameCount;
    segBytes = result.bytes.byteLength;
    started = performance.now();
    Buffer.concat(inputs.files.map((file) => new Uint8Array(file)));
    copyMs.push(performance.now() - started);
  }
  saveInputs(inputs);
  const extra: number[] = [];
  for (let run = 0; run < Math.min(runs, 3); run++) {
    const output = execFileSync(process.execPath, [...process.execArgv, __filename, '--memory-child'], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const report = JSON.parse(output);
    extra.push(report.extraKiB * 1024);
    console.log(`memory run ${run + 1}: ${JSON.stringify(report)}`);
  }
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  console.log(`CT ${DIMENSIONS.join('x')}: ${mib(ctBytes)} MiB in ${inputs.files.length} files; SEG ${mib(segBytes)} MiB, ${frames} frames`);
  console.log(`writeLiverSeg: median ${median(writeMs).toFixed(0)} ms over ${runs} runs (all: ${writeMs.map((v) => v.toFixed(0)).join(', ')})`);
  console.log(`baseline, one copy of the CT bytes: median ${median(copyMs).toFixed(0)} ms; ratio ${(median(writeMs) / median(copyMs)).toFixed(1)}x`);
  console.log(`peak extra memory: median ${mib(median(extra))} MiB over ${extra.length} processes = ${(median(extra) / ctBytes).toFixed(2)}x the CT bytes (all: ${extra.map(mib).join(', ')} MiB)`);
}

if (process.argv.includes('--memory-child')) memoryChild();
else main();
