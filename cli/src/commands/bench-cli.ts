/**
 * rt-liver bench --input <path>: `rt-liver segment <path>` end to end as a user runs it, each run a
 * fresh process (startup, reading, model loading, inference, post-processing, exit), after one
 * warm-up run that fills the disk cache. Reports medians of wall time (measured here, from spawn to
 * exit), of each stage (reported by the child), and of peak memory against the CT's size.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RtLiverError } from '../../../extension/src/core/errors';
import { createProgress } from '../progress';
import { median, type BenchRunOptions } from './bench';
import type { SegmentReport } from './segment';

export type EndToEndOptions = BenchRunOptions;

export interface EndToEndReport {
  input: string;
  runs: number;
  backend: string;
  model: string;
  wall_ms: { median: number; all: number[] };
  median_timings_ms: Record<string, number>;
  peak_rss_mb: { median: number; all: number[] };
  /** Median resident memory when the command started (Node + the CLI's modules). */
  rss_at_start_mb: number;
  ct_mb: number;
  peak_rss_to_ct: number;
  /** The stage during which each run reached its peak (see SegmentReport.memory_mb). */
  peak_stages: string[];
  /** Median CPU time (user + system, all threads) of a run and of its pre- and post-processing, and the load average around the runs. */
  cpu_ms: number;
  cpu_pre_post_ms: number;
  load_average: number[];
  node: string;
}

/** cli/bin/rt-liver.cjs, from the bundle (cli/dist) or the sources (cli/src/commands). */
function findBin(): string {
  if (process.env.RT_LIVER_BIN) return process.env.RT_LIVER_BIN; // set by the bin itself
  const candidates = [join(__dirname, '..', 'bin', 'rt-liver.cjs'), join(__dirname, '..', '..', 'bin', 'rt-liver.cjs')];
  return candidates.find((path) => existsSync(path)) ?? candidates[0];
}

function runOnce(input: string, options: EndToEndOptions, bin: string): { wallMs: number; report: SegmentReport } {
  const backend = options.backends.split(',')[0] || 'auto';
  const args = [bin, 'segment', input, '--json', '-q', '--backend', backend, '--models-dir', options.modelsDir];
  if (options.model?.[0]) args.push('--model', options.model[0]);
  if (options.threads) args.push('--threads', String(options.threads));
  const start = performance.now();
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const wallMs = performance.now() - start;
  if (child.status !== 0) {
    throw new RtLiverError('BENCH_RUN_FAILED', `rt-liver segment ${input} failed: ${child.stderr.trim()}`, 'Run the same segment command by hand to see the problem.');
  }
  return { wallMs, report: JSON.parse(child.stdout) as SegmentReport };
}

export async function benchEndToEnd(input: string, options: EndToEndOptions): Promise<EndToEndReport> {
  const progress = createProgress(true);
  const bin = findBin();
  const walls: number[] = [];
  const rss: number[] = [];
  const rssAtStart: number[] = [];
  const peakStages: string[] = [];
  const cpu: number[] = [];
  const cpuPrePost: number[] = [];
  const load: number[] = [];
  const stages: Record<string, number[]> = {};
  let last: SegmentReport | undefined;
  for (let run = 0; run <= options.runs; run++) {
    progress.stage(run === 0 ? `Warm-up: rt-liver segment ${input}` : `Run ${run}/${options.runs}`);
    const { wallMs, report } = runOnce(input, options, bin);
    last = report;
    if (run === 0) continue;
    walls.push(wallMs);
    rss.push(report.memory_mb.peak_rss);
    rssAtStart.push(report.memory_mb.rss_at_start);
    peakStages.push(report.memory_mb.peak_stage);
    cpu.push(report.cpu_ms.user + report.cpu_ms.system);
    cpuPrePost.push(report.cpu_ms.preprocess + report.cpu_ms.postprocess);
    load.push(report.load_average);
    for (const [stage, ms] of Object.entries(report.timings_ms)) (stages[stage] ??= []).push(ms);
  }
  progress.done();
  const round = (x: number) => Math.round(x * 10) / 10;
  const result: EndToEndReport = {
    input,
    runs: options.runs,
    backend: last!.backend,
    model: last!.model,
    wall_ms: { median: round(median(walls)), all: walls.map(round) },
    median_timings_ms: Object.fromEntries(Object.entries(stages).map(([stage, values]) => [stage, round(median(values))])),
    peak_rss_mb: { median: round(median(rss)), all: rss },
    rss_at_start_mb: round(median(rssAtStart)),
    ct_mb: last!.memory_mb.ct_voxels,
    peak_rss_to_ct: round(median(rss) / last!.memory_mb.ct_voxels),
    peak_stages: peakStages,
    cpu_ms: round(median(cpu)),
    cpu_pre_post_ms: round(median(cpuPrePost)),
    load_average: load,
    node: process.version,
  };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const t = result.median_timings_ms;
    process.stdout.write(
      [
        `rt-liver segment ${input}: medians of ${options.runs} fresh processes (after 1 warm-up); ${result.model} on ${result.backend}`,
        `wall ${result.wall_ms.median} ms (runs: ${result.wall_ms.all.join(', ')})`,
        `stages (ms): startup ${t.startup}, read ${t.load_input}, model ${t.load_model}, pre-process ${t.preprocess}, inference ${t.inference}, post-process ${t.postprocess}; pre+post ${round(t.preprocess + t.postprocess)}`,
        `peak RSS ${result.peak_rss_mb.median} MB = ${result.peak_rss_to_ct} x the CT's ${result.ct_mb} MB of voxels ` +
          `(${result.rss_at_start_mb} MB at start: Node and the CLI; the work added ${round(result.peak_rss_mb.median - result.rss_at_start_mb)} MB = ` +
          `${round((result.peak_rss_mb.median - result.rss_at_start_mb) / result.ct_mb)} x the CT; peak reached during: ${[...new Set(peakStages)].join(', ')})`,
        `CPU time ${result.cpu_ms} ms per run (all threads), pre+post ${result.cpu_pre_post_ms} ms; load average during the runs: ${load.join(', ')} (shared machine: compare with care)`,
      ].join('\n') + '\n',
    );
  }
  return result;
}
