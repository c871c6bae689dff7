/**
 * rt-liver bench: per-stage medians of segmentLiver on a generated abdominal CT, for each model and
 * backend, and each backend's ratio to onnxruntime-node (cpu) for the same model, measured in the
 * same run. A benchmark, not a test: it reports, it does not judge.
 */
import { loadavg } from 'node:os';
import { RtLiverError, errorText } from '../../../extension/src/core/errors';
import type { BackendChoice } from '../../../extension/src/core/model/inference';
import { prepareModel, segmentLiver, type SegmentationTimings } from '../../../extension/src/core/model/pipeline';
import { makeAbdomenPhantom } from '../../../synthetic/phantom';
import type { Vec3, Volume } from '../../../extension/src/core/volume';
import { BACKENDS, nodeSessionFactory } from '../backends';
import { DEFAULT_HU_WINDOW } from '../../../extension/src/core/model/manifest';
import { loadManifest, readModel } from '../models';
import { createProgress, type Progress } from '../progress';
import { canonicalView } from '../../../extension/src/core/model/orientation';
import { postprocess } from '../../../extension/src/core/model/postprocess';
import { preprocess } from '../../../extension/src/core/model/preprocess';
import { resampleTrilinear } from '../../../extension/src/core/model/resample';

/** The phantom covers a typical abdominal CT: about 380 mm across and 250 mm from dome to pelvis. */
const ABDOMEN_FIELD_OF_VIEW_MM = 380;
const ABDOMEN_SCAN_LENGTH_MM = 250;
/** Thinner slices than this are not acquired in clinical CT. */
const THINNEST_SLICE_MM = 0.625;

/** What both benchmarks take: how often, which models and backends, where the models are. */
export interface BenchRunOptions {
  runs: number;
  model?: string[];
  backends: string;
  threads?: number;
  modelsDir: string;
  json?: boolean;
}

export interface BenchOptions extends BenchRunOptions {
  size: Vec3;
}

type StageName = Exclude<keyof SegmentationTimings, 'first_pass'>;
const STAGES: StageName[] = ['preprocess', 'inference', 'upsample', 'largest_component', 'fill_holes', 'scatter', 'postprocess', 'total'];

export interface BenchRow {
  model: string;
  placeholder: boolean;
  backend: string;
  runs: number;
  create_session_ms: number;
  median_ms: Record<StageName, number>;
  /** median total / median total of onnxruntime-node cpu, same model, same run. */
  ratio_total_to_cpu: number | null;
  ratio_inference_to_cpu: number | null;
  error?: string;
}

export interface BenchReport {
  size: Vec3;
  spacing: Vec3;
  runs: number;
  rows: BenchRow[];
  node: string;
  /** 1-minute load average before and after: the machine may be shared. */
  load_average: [number, number];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function parseBackends(list: string): BackendChoice[] {
  const names = list.split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of names) {
    if (!(BACKENDS as readonly string[]).includes(name) || name === 'auto') {
      throw new RtLiverError('BENCH_BAD_BACKEND', `Unknown backend "${name}" in --backends.`, 'Use a comma-separated list of cpu, wasm, webgpu.');
    }
  }
  return ['cpu', ...names.filter((name) => name !== 'cpu')] as BackendChoice[];
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Pre- and post-processing with the phantom's true liver as the "model output" (its mask resampled to
 * the model grid, as logits), no inference: what post-processing costs for a real liver-shaped mask,
 * whatever the bundled models produce (an untrained placeholder's noisy output is a worst case).
 */
function benchOracle(ct: Volume, liver: Volume<Uint8Array>, shape: [1, 1, number, number, number], runs: number, progress: Progress): BenchRow {
  const samples: SegmentationTimings[] = [];
  const [, , depth, height, width] = shape;
  for (let run = 0; run <= runs; run++) {
    progress.stage(`phantom liver as logits, no model: ${run === 0 ? 'warm-up run' : `run ${run}/${runs}`}`);
    const start = performance.now();
    const input = preprocess(ct, { shape, huWindow: [...DEFAULT_HU_WINDOW] });
    const preprocessMs = performance.now() - start;
    const probability = resampleTrilinear(canonicalView(liver.voxels, liver, input.reorientation), [width, height, depth]);
    const logits = new Float32Array(2 * probability.length);
    for (let n = 0; n < probability.length; n++) logits[probability.length + n] = 2 * probability[n] - 1;
    const t = performance.now();
    const post = postprocess({ logits, modelShape: [depth, height, width], source: ct, reorientation: input.reorientation, canonicalDims: input.canonicalGeometry.dimensions });
    const postprocessMs = performance.now() - t;
    if (run > 0) {
      samples.push({ preprocess: preprocessMs, inference: 0, ...post.timings, postprocess: postprocessMs, total: preprocessMs + postprocessMs });
    }
  }
  return {
    model: 'phantom liver as logits (no model)',
    placeholder: false,
    backend: 'none',
    runs,
    create_session_ms: 0,
    median_ms: Object.fromEntries(STAGES.map((stage) => [stage, round(median(samples.map((sample) => sample[stage])))])) as Record<StageName, number>,
    ratio_total_to_cpu: null,
    ratio_inference_to_cpu: null,
  };
}

export async function benchCommand(options: BenchOptions): Promise<BenchReport> {
  const progress = createProgress(true);
  const loadBefore = loadavg()[0];
  const backends = parseBackends(options.backends);
  const manifest = loadManifest(options.modelsDir);
  const names = options.model ?? manifest.models.map((model) => model.name);
  const files = new Map(names.map((name) => [name, readModel(options.modelsDir, name)])); // unknown names fail here, before any work
  const spacing: Vec3 = [
    ABDOMEN_FIELD_OF_VIEW_MM / options.size[0],
    ABDOMEN_FIELD_OF_VIEW_MM / options.size[1],
    Math.max(THINNEST_SLICE_MM, ABDOMEN_SCAN_LENGTH_MM / options.size[2]),
  ];
  progress.stage(`Generating a ${options.size.join('x')} abdominal phantom`);
  const { ct, liver } = makeAbdomenPhantom({ seed: 'rt-liver-bench', dimensions: options.size, spacing });

  const rows: BenchRow[] = [];
  rows.push(benchOracle(ct, liver, manifest.models[0].input.shape, options.runs, progress));
  for (const name of names) {
    const file = files.get(name)!;
    for (const backend of backends) {
      progress.stage(`${name} on ${backend}: starting`);
      const row: BenchRow = {
        model: name,
        placeholder: file.entry.placeholder,
        backend,
        runs: 0,
        create_session_ms: 0,
        median_ms: Object.fromEntries(STAGES.map((stage) => [stage, Number.NaN])) as Record<StageName, number>,
        ratio_total_to_cpu: null,
        ratio_inference_to_cpu: null,
      };
      try {
        const prepared = await prepareModel(file.entry, file.bytes, backend, nodeSessionFactory({ threads: options.threads }));
        row.backend = prepared.session.backend;
        row.create_session_ms = round(prepared.timings_ms.create_session);
        const samples: SegmentationTimings[] = [];
        for (let run = 0; run <= options.runs; run++) {
          progress.stage(`${name} on ${row.backend}: ${run === 0 ? 'warm-up run' : `run ${run}/${options.runs}`}`);
          const result = await segmentLiver(ct, prepared);
          if (run > 0) samples.push(result.timings_ms);
        }
        await prepared.session.dispose();
        row.runs = samples.length;
        for (const stage of STAGES) row.median_ms[stage] = round(median(samples.map((sample) => sample[stage])));
      } catch (error) {
        row.error = errorText(error);
      }
      rows.push(row);
    }
  }
  for (const row of rows) {
    const baseline = rows.find((other) => other.model === row.model && other.backend === 'onnxruntime-node/cpu' && !other.error);
    if (!baseline || row.error) continue;
    row.ratio_total_to_cpu = Math.round((row.median_ms.total / baseline.median_ms.total) * 100) / 100;
    row.ratio_inference_to_cpu = Math.round((row.median_ms.inference / baseline.median_ms.inference) * 100) / 100;
  }
  progress.done();

  const load: [number, number] = [Math.round(loadBefore * 100) / 100, Math.round(loadavg()[0] * 100) / 100];
  const report: BenchReport = { size: options.size, spacing, runs: options.runs, rows, node: process.version, load_average: load };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const header = ['model', 'backend', 'pre', 'infer', 'post', 'total', 'x cpu', 'session'];
    const lines = rows.map((row) =>
      row.error
        ? [row.model, row.backend, `unavailable: ${row.error.split('\n')[0]}`]
        : [
            row.model + (row.placeholder ? ' (placeholder)' : ''),
            row.backend,
            String(row.median_ms.preprocess),
            String(row.median_ms.inference),
            String(row.median_ms.postprocess),
            String(row.median_ms.total),
            row.ratio_total_to_cpu === null ? '' : row.ratio_total_to_cpu.toFixed(2),
            String(row.create_session_ms),
          ],
    );
    process.stdout.write(
      `Medians of ${options.runs} runs (after 1 warm-up), ms, on a ${options.size.join('x')} phantom; node ${process.version}; load average ${load.join(' -> ')}\n` +
        [header, ...lines].map((cells) => cells.join('\t')).join('\n') +
        '\n',
    );
  }
  return report;
}
