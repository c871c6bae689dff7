/**
 * Benchmark (not a test): reading a DICOM CT series into a HU Volume, stage by stage.
 * Usage: npx tsx scripts/bench-dicom-read.ts [folder] [runs]   (default ../shared/data/ct/crlm-ct-1006/dicom, 5)
 * Prints the median and range of each stage over the runs, in ms, and the header parse time against
 * dcmjs's full parse of the same files (the baseline that justified dicom-parser), in the same run.
 */
import dcmjs from 'dcmjs';
import { join } from 'node:path';
import { readInputFiles } from '../cli/src/io/read-files';
import { configureNodeWasmCodecs } from '../cli/src/io/node-wasm';
import { buildVolume, parseDicomInstances, selectCtSeries } from '../extension/src/core/dicom';

const folder = process.argv[2] ?? join(__dirname, '..', '..', 'shared', 'data', 'ct', 'crlm-ct-1006', 'dicom');
const runs = Number(process.argv[3] ?? 5);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main(): Promise<void> {
  configureNodeWasmCodecs();
  const stages: Record<string, number[]> = { readFiles: [], parseHeaders: [], selectSeries: [], decodeAndBuild: [], total: [], dcmjsParseBaseline: [] };
  let shape = '';
  for (let run = 0; run < runs + 1; run++) {
    const t0 = performance.now();
    const files = readInputFiles(folder);
    const t1 = performance.now();
    const { instances, skipped } = parseDicomInstances(files);
    const t2 = performance.now();
    const series = selectCtSeries(instances, { skipped });
    const t3 = performance.now();
    const { volume } = await buildVolume(series);
    const t4 = performance.now();
    shape = `${volume.dimensions.join('x')} (${files.length} files)`;
    if (run === 0) continue; // warm-up: JIT and first file-cache read
    stages.readFiles.push(t1 - t0);
    stages.parseHeaders.push(t2 - t1);
    stages.selectSeries.push(t3 - t2);
    stages.decodeAndBuild.push(t4 - t3);
    stages.total.push(t4 - t0);
    // dcmjs wants whole ArrayBuffers: copy outside the timed part.
    const buffers = files.map((file) => (file.bytes instanceof Uint8Array ? file.bytes.slice().buffer : file.bytes));
    const t5 = performance.now();
    for (const buffer of buffers) dcmjs.data.DicomMessage.readFile(buffer);
    stages.dcmjsParseBaseline.push(performance.now() - t5);
  }
  console.log(`${folder}: ${shape}, ${runs} runs after 1 warm-up, node ${process.version}`);
  for (const [stage, values] of Object.entries(stages)) {
    console.log(`${stage.padEnd(18)} median ${median(values).toFixed(1).padStart(7)} ms   min ${Math.min(...values).toFixed(1)}   max ${Math.max(...values).toFixed(1)}`);
  }
  const ratio = median(stages.parseHeaders) / median(stages.dcmjsParseBaseline);
  console.log(`parseHeaders / dcmjs parse: ${ratio.toFixed(3)} (median over median)`);
}

void main();
