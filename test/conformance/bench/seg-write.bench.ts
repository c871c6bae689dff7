/**
 * Benchmark (not a test): time and peak extra memory of writeLiverSeg for a 512x512x200 CT series with
 * a liver-sized mask. Run: npx tsx --expose-gc test/conformance/bench/seg-write.bench.ts [runs]
 *
 * Time: median of `runs` writes in one process. Peak memory: each run in a fresh child process that
 * only reads the CT files and the mask from var/bench (so building them leaves no high-water mark):
 * maxRSS after the write minus the RSS just before it (after a GC). Reading the inputs leaves a
 * high-water mark a little above that RSS, so this is an upper bound of what the write adds at its
 * peak, exact when the write sets a new high-water mark (it did in every run so far). Baseline in the same run: one copy of the CT bytes
 * (Buffer.concat), to relate the writer's time to this machine's memory bandwidth.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import dcmjs from 'dcmjs';
import { writeCtSeries } from '../../../synthetic/ct-series-writer';
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

/** The dcmjs route: derivations.Segmentation from the full CT datasets (as @cornerstonejs/adapters does). */
function writeWithDcmjsDerivations(inputs: ReturnType<typeof buildInputs>): ArrayBuffer {
  const { DicomMessage, DicomMetaDictionary } = dcmjs.data;
  const datasets = inputs.files.map((file) => {
    const dicomData = DicomMessage.readFile(file);
    const dataset = DicomMetaDictionary.naturalizeDataset(dicomData.dict);
    (dataset as Record<string, unknown>)._meta = (DicomMetaDictionary as unknown as { namifyDataset(d: unknown): unknown }).namifyDataset(dicomData.meta);
    return dataset;
  });
  const multiframe = dcmjs.normalizers.Normalizer.normalizeToDataset(datasets);
  const segmentation = new dcmjs.derivations.Segmentation([multiframe], { includeSliceSpacing: true });
  const [nx, ny, nz] = DIMENSIONS;
  const plane = nx * ny;
  const labelmaps: Uint8Array[] = [];
  const frameNumbers: number[] = [];
  for (let k = 0; k < nz; k++) {
    const slice = inputs.mask.voxels.subarray(k * plane, (k + 1) * plane);
    if (slice.some((value) => value !== 0)) {
      labelmaps.push(slice);
      frameNumbers.push(k + 1); // the bench series is in ascending position, as the normalizer sorts it
    }
  }
  segmentation.setNumberOfFrames(labelmaps.length);
  segmentation.addSegmentFromLabelmap(
    {
      SegmentedPropertyCategoryCodeSequence: { CodeValue: '123037004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' },
      SegmentNumber: 1,
      SegmentLabel: 'Liver',
      SegmentAlgorithmType: 'AUTOMATIC',
      SegmentAlgorithmName: 'bench',
      SegmentedPropertyTypeCodeSequence: { CodeValue: '10200004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Liver' },
    },
    labelmaps,
    1,
    frameNumbers,
  );
  segmentation.bitPackPixelData();
  return dcmjs.data.datasetToBuffer(segmentation.dataset).buffer;
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

function memoryChild(route: string): void {
  const inputs = loadInputs();
  gc();
  const before = process.resourceUsage().maxRSS;
  const rssBefore = process.memoryUsage().rss / 1024;
  const segBytes = route === 'dcmjs' ? writeWithDcmjsDerivations(inputs).byteLength : write(inputs).bytes.byteLength;
  const after = process.resourceUsage().maxRSS;
  const ctBytes = inputs.files.reduce((sum, file) => sum + file.byteLength, 0);
  process.stdout.write(
    JSON.stringify({ route, extraKiB: Math.round(after - rssBefore), newHighWaterMark: after > before, ctBytes, segBytes }),
  );
}

function main(): void {
  const runs = Number(process.argv[2] ?? 5);
  const inputs = buildInputs();
  const ctBytes = inputs.files.reduce((sum, file) => sum + file.byteLength, 0);
  const writeMs: number[] = [];
  const copyMs: number[] = [];
  const dcmjsMs: number[] = [];
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
    gc();
    started = performance.now();
    writeWithDcmjsDerivations(inputs);
    dcmjsMs.push(performance.now() - started);
  }
  saveInputs(inputs);
  const extra: Record<string, number[]> = { ours: [], dcmjs: [] };
  for (let run = 0; run < Math.min(runs, 3); run++) {
    for (const route of ['ours', 'dcmjs']) {
      const output = execFileSync(process.execPath, [...process.execArgv, __filename, '--memory-child', route], { encoding: 'utf8', maxBuffer: 1 << 20 });
      const report = JSON.parse(output);
      extra[route].push(report.extraKiB * 1024);
      console.log(`memory run ${run + 1}: ${JSON.stringify(report)}`);
    }
  }
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  console.log(`CT ${DIMENSIONS.join('x')}: ${mib(ctBytes)} MiB in ${inputs.files.length} files; SEG ${mib(segBytes)} MiB, ${frames} frames`);
  console.log(`writeLiverSeg: median ${median(writeMs).toFixed(0)} ms over ${runs} runs (all: ${writeMs.map((v) => v.toFixed(0)).join(', ')})`);
  console.log(`baseline, one copy of the CT bytes: median ${median(copyMs).toFixed(0)} ms; ratio ${(median(writeMs) / median(copyMs)).toFixed(1)}x`);
  console.log(`baseline, dcmjs derivations.Segmentation: median ${median(dcmjsMs).toFixed(0)} ms; ours is ${(median(dcmjsMs) / median(writeMs)).toFixed(1)}x faster`);
  for (const route of ['ours', 'dcmjs']) {
    const values = extra[route];
    console.log(`peak extra memory, ${route}: median ${mib(median(values))} MiB over ${values.length} processes = ${(median(values) / ctBytes).toFixed(2)}x the CT bytes (all: ${values.map(mib).join(', ')} MiB)`);
  }
}

const childFlag = process.argv.indexOf('--memory-child');
if (childFlag !== -1) memoryChild(process.argv[childFlag + 1]);
else main();
