/**
 * npm run bench:viewer [-- runs=5 study=crlm-ct-1006]
 *
 * Click to overlay in Debian's Chromium: the viewer server on a free loopback port, the CT study
 * (../shared/data/ct/<study>, else the demo phantom) opened in the Real-time Liver mode in a fresh
 * page per run; once the series has loaded and the default model is in its worker, "Segment liver"
 * is clicked and the time to the labelmap on screen is read from the panel, with each stage and the
 * main thread's long tasks (PerformanceObserver 'longtask') during the run, by whose work they were.
 * Then onnxruntime-web WASM in the browser against onnxruntime-node on the same input: `rt-liver
 * segment --json` (native) on the same series, n times. Medians; the single runs are printed too.
 * Writes var/bench-viewer.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { launchChromium, waitForRenderedViewports, waitForVolumesLoaded } from '../test/support/browser';
import { sharedDataPath } from '../test/support/shared-data';
import { median, recordLongTasks, segmentOnce, type SegmentRun } from '../test/e2e/segment-support';
import { modeUrl, startViewerFixture } from '../test/e2e/viewer-fixture';
import { demoStudyPaths } from './data/demo-study';

const ROOT = resolve(__dirname, '..');
const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.split('=') as [string, string]));
const RUNS = Number(args.runs ?? 5);
const STUDY = args.study ?? 'crlm-ct-1006';

function cliRun(folder: string, backend: 'auto' | 'wasm'): Record<string, number> {
  const run = spawnSync(process.execPath, [join(ROOT, 'cli', 'bin', 'rt-liver.cjs'), 'segment', folder, '--json', '-q', '--backend', backend], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`rt-liver segment failed: ${run.stderr}`);
  return (JSON.parse(run.stdout.trim().split('\n').pop()!) as { timings_ms: Record<string, number> }).timings_ms;
}

async function main(): Promise<void> {
  const folder = sharedDataPath('ct', STUDY);
  const fixture = await startViewerFixture({ sharedCt: folder ? [STUDY] : [] });
  const studyUid = folder ? fixture.sharedCt[STUDY].studyInstanceUid : fixture.demo.studyInstanceUid;
  const seriesFolder = folder ?? demoStudyPaths(join(ROOT, 'var')).seriesDir;
  const label = folder ? STUDY : 'demo phantom (../shared/data absent)';
  const browser = await launchChromium();
  const runs: SegmentRun[] = [];
  try {
    for (let n = 0; n < RUNS; n++) {
      const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
      // tsx compiles this script with esbuild's keepNames, which wraps named functions handed to
      // page.evaluate in a `__name(...)` helper that exists only in Node; the page gets a no-op one.
      await page.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
      await recordLongTasks(page);
      await page.goto(modeUrl(fixture, studyUid));
      await waitForRenderedViewports(page, 3);
      await waitForVolumesLoaded(page);
      // The model loads into its worker while the user looks at the images; give it that time.
      await page.waitForTimeout(3000);
      const run = await segmentOnce(page);
      runs.push(run);
      const tasks = run.longTasks.map((t) => `${Math.round(t.duration)} ${t.kind}`).join(', ') || 'none';
      console.log(`run ${n + 1}: click to overlay ${run.clickToOverlayMs} ms, inference ${Math.round(run.stageMs.inference ?? 0)} ms, long tasks: ${tasks}`);
      await page.close();
    }
  } finally {
    await browser.close();
    await fixture.close();
  }
  const native = Array.from({ length: RUNS }, () => cliRun(seriesFolder, 'auto'));
  const stages = ['copy', 'model', 'preprocess', 'inference', 'postprocess', 'display'];
  const summary = {
    study: label,
    runs: RUNS,
    model: runs[0].model,
    backend: runs[0].backend,
    machine: { cpus: cpus().length, load_average_1min: Math.round(loadavg()[0] * 100) / 100 },
    click_to_overlay_ms: { median: median(runs.map((r) => r.clickToOverlayMs)), runs: runs.map((r) => r.clickToOverlayMs) },
    stages_ms: Object.fromEntries(stages.map((stage) => [stage, Math.round(median(runs.map((r) => r.stageMs[stage] ?? 0)))])),
    longest_task_ms: { median: Math.round(median(runs.map((r) => r.longestTaskMs))), runs: runs.map((r) => Math.round(r.longestTaskMs)) },
    longest_own_task_ms: { median: Math.round(median(runs.map((r) => r.longestOwnTaskMs))), runs: runs.map((r) => Math.round(r.longestOwnTaskMs)) },
    long_tasks_by_kind: ['render', 'host', 'own', 'other'].map((kind) => ({ kind, count_median: median(runs.map((r) => r.longTasks.filter((t) => t.kind === kind).length)) })),
    inference_ms: {
      chromium_wasm: { median: Math.round(median(runs.map((r) => r.stageMs.inference ?? 0))), runs: runs.map((r) => Math.round(r.stageMs.inference ?? 0)) },
      node_native: { median: Math.round(median(native.map((t) => t.inference))), runs: native.map((t) => Math.round(t.inference)) },
    },
  };
  const ratio = summary.inference_ms.chromium_wasm.median / summary.inference_ms.node_native.median;
  console.log(JSON.stringify({ ...summary, inference_ratio_wasm_over_native: Math.round(ratio * 100) / 100 }, null, 1));
  mkdirSync(join(ROOT, 'var'), { recursive: true });
  writeFileSync(join(ROOT, 'var', 'bench-viewer.json'), JSON.stringify({ ...summary, inference_ratio_wasm_over_native: ratio }, null, 1));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
