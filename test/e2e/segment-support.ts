/**
 * What the segmentation e2e tests and `npm run bench:viewer` share: the page's long tasks
 * (PerformanceObserver 'longtask', installed before the app starts), one click on "Segment liver"
 * until the labelmap is on screen, the viewer's labelmap read back from Cornerstone3D as a mask on
 * the CT volume's grid, the CLI's mask for the same series (the core with onnxruntime-node, as
 * `rt-liver segment` runs it), and Dice.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { readNifti } from '../../extension/src/core/nifti';
import type { Volume, VolumeGeometry } from '../../extension/src/core/volume';

const REPO_ROOT = resolve(__dirname, '..', '..');

/**
 * Records every long task (over 50 ms) of the page's main thread in window.rtLiverLongTasks, and
 * when Cornerstone3D finished drawing a viewport (its IMAGE_RENDERED event) in window.rtLiverRenders:
 * a long task that contains a render is the host drawing with WebGL (on this machine, a software
 * renderer without a GPU), not rt-liver's own work.
 */
export async function recordLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const tasks: { start: number; duration: number }[] = [];
    const renders: number[] = [];
    Object.assign(window, { rtLiverLongTasks: tasks, rtLiverRenders: renders });
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) tasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
    document.addEventListener('CORNERSTONE_IMAGE_RENDERED', () => renders.push(performance.now()), true);
  });
}

type LongTaskKind = 'render' | 'host' | 'own' | 'other';

export interface LongTask {
  start: number;
  duration: number;
  /**
   * Whose work it was: 'render' = it contains the end of a Cornerstone3D viewport render (WebGL);
   * 'host' = it overlaps one of rt-liver's calls into OHIF/Cornerstone (a "rt-liver:host:*" measure);
   * 'own' = rt-liver's own main-thread work ("rt-liver:own:*" measures: the CT copy, the labelmap
   * images, the panel) took at least half of it; 'other' = the rest (the page's other work, e.g.
   * OHIF's panels reacting to the new segmentation, or garbage collection).
   */
  kind: 'render' | 'host' | 'own' | 'other';
  /** The measures it overlaps (host calls and own pieces). */
  host: string[];
  /** The last stage mark ("rt-liver:<stage>") before it started, and how long before (ms). */
  after: string;
}

export interface SegmentRun {
  volumeMl: number;
  voxels: number;
  model: string;
  backend: string;
  clickToOverlayMs: number;
  /** Per stage (ms): copy, model, preprocess, inference, postprocess, display. */
  stageMs: Record<string, number | undefined>;
  /** The main thread's long tasks between the click and the labelmap on screen. */
  longTasks: LongTask[];
  longestTaskMs: number;
  /** The longest task in which rt-liver's own main-thread work ran. */
  longestOwnTaskMs: number;
  segmentationId: string;
  edited: boolean;
}

/** Waits until the button can run, clicks it, and waits for the result (or fails with the panel's error). */
export async function segmentOnce(page: Page, timeoutMs = 180_000): Promise<SegmentRun> {
  const before = await page.getByTestId('rt-liver-result').getAttribute('data-segmentation-id').catch(() => null);
  await page.locator('[data-testid="rt-liver-segment"]:not([disabled])').waitFor({ timeout: 120_000 });
  await page.getByTestId('rt-liver-segment').click();
  const outcome = page.locator(
    before ? `[data-testid="rt-liver-result"]:not([data-segmentation-id="${before}"]), [data-testid="rt-liver-error"]` : '[data-testid="rt-liver-result"], [data-testid="rt-liver-error"]',
  );
  await outcome.first().waitFor({ timeout: timeoutMs });
  const error = page.getByTestId('rt-liver-error');
  if (await error.count()) throw new Error(`The panel reports: ${await error.textContent()}`);
  return readResult(page);
}

export async function readResult(page: Page): Promise<SegmentRun> {
  const result = page.getByTestId('rt-liver-result');
  const attribute = async (name: string) => (await result.getAttribute(name)) ?? '';
  const [start, end] = (await attribute('data-run-window')).split(' ').map(Number);
  const longTasks = await page.evaluate(
    ([from, to]) => {
      const w = window as unknown as { rtLiverLongTasks?: { start: number; duration: number }[]; rtLiverRenders?: number[] };
      const renders = w.rtLiverRenders ?? [];
      const measures = performance.getEntriesByType('measure').filter((m) => m.name.startsWith('rt-liver:host:') || m.name.startsWith('rt-liver:own:'));
      const marks = performance.getEntriesByType('mark').filter((m) => m.name.startsWith('rt-liver:'));
      return (w.rtLiverLongTasks ?? [])
        .filter((t) => t.start + t.duration > from && t.start < to)
        .map((t) => {
          const end = t.start + t.duration;
          const overlapping = measures.filter((m) => m.startTime < end && m.startTime + m.duration > t.start);
          const host = overlapping.map((m) => m.name.slice('rt-liver:'.length));
          // How much of the task rt-liver's own pieces took (a piece inside a longer task is not what made it long).
          const ownMs = overlapping
            .filter((m) => m.name.startsWith('rt-liver:own:'))
            .reduce((sum, m) => sum + Math.min(end, m.startTime + m.duration) - Math.max(t.start, m.startTime), 0);
          const render = renders.some((r) => r >= t.start && r <= end);
          const kind = render ? 'render' : host.some((name) => name.startsWith('host:')) ? 'host' : ownMs >= t.duration / 2 ? 'own' : 'other';
          const mark = marks.filter((m) => m.startTime <= t.start).pop();
          const after = mark ? `${mark.name.slice('rt-liver:'.length)}+${Math.round(t.start - mark.startTime)}` : '';
          return { ...t, kind: kind as LongTaskKind, host: [...new Set(host)], after };
        });
    },
    [start, end] as const,
  );
  return {
    volumeMl: Number(await attribute('data-volume-ml')),
    voxels: Number(await attribute('data-voxels')),
    model: await attribute('data-model'),
    backend: await attribute('data-backend'),
    clickToOverlayMs: Number(await attribute('data-click-to-overlay-ms')),
    stageMs: JSON.parse(await attribute('data-stage-ms')) as Record<string, number | undefined>,
    longTasks,
    longestTaskMs: Math.max(0, ...longTasks.map((t) => t.duration)),
    longestOwnTaskMs: Math.max(0, ...longTasks.filter((t) => t.kind === 'own').map((t) => t.duration)),
    segmentationId: await attribute('data-segmentation-id'),
    edited: (await attribute('data-edited')) === 'true',
  };
}

/** The labelmap of segmentation `segmentationId` as seen by Cornerstone3D, on the CT volume's grid. */
export interface ViewerMask {
  geometry: VolumeGeometry;
  voxels: Uint8Array;
  /** The labelmap's own segment label and the segmentation's label, as OHIF's list shows them. */
  label: string;
  segmentLabels: string[];
}

export async function viewerMask(page: Page, segmentationId: string): Promise<ViewerMask> {
  const read = await page.evaluate((id) => {
    type Image = { referencedImageId?: string; voxelManager: { getScalarData: () => ArrayLike<number> } };
    const w = window as unknown as {
      cornerstone: {
        getRenderingEngines: () => { getViewports: () => { getVolumeId?: () => string }[] }[];
        cache: { getVolume: (id: string) => { imageIds: string[]; dimensions: number[]; spacing: number[]; origin: number[]; direction: ArrayLike<number> }; getImage: (id: string) => Image };
      };
      cornerstoneTools: { segmentation: { state: { getSegmentation: (id: string) => { label: string; segments: Record<string, { label: string } | undefined>; representationData: { Labelmap: { imageIds: string[] } } } } } };
    };
    const viewport = w.cornerstone.getRenderingEngines().flatMap((e) => e.getViewports()).find((v) => v.getVolumeId?.());
    const volume = w.cornerstone.cache.getVolume(viewport!.getVolumeId!());
    const slice = new Map(volume.imageIds.map((imageId, k) => [imageId, k]));
    const segmentation = w.cornerstoneTools.segmentation.state.getSegmentation(id);
    const [nx, ny] = volume.dimensions;
    // Runs of liver voxels [start, length] in volume order: compact to send out of the page.
    const runs: number[] = [];
    for (const labelmapId of segmentation.representationData.Labelmap.imageIds) {
      const image = w.cornerstone.cache.getImage(labelmapId);
      const k = slice.get(image.referencedImageId!)!;
      const data = image.voxelManager.getScalarData();
      let start = -1;
      for (let p = 0; p <= data.length; p++) {
        const on = p < data.length && data[p] !== 0;
        if (on && start < 0) start = p;
        if (!on && start >= 0) {
          runs.push(k * nx * ny + start, p - start);
          start = -1;
        }
      }
    }
    return {
      dimensions: volume.dimensions,
      spacing: volume.spacing,
      origin: volume.origin,
      direction: Array.from(volume.direction),
      runs,
      label: segmentation.label,
      segmentLabels: Object.values(segmentation.segments).filter(Boolean).map((s) => s!.label),
    };
  }, segmentationId);
  const [nx, ny, nz] = read.dimensions;
  const voxels = new Uint8Array(nx * ny * nz);
  for (let r = 0; r < read.runs.length; r += 2) voxels.fill(1, read.runs[r], read.runs[r] + read.runs[r + 1]);
  const d = read.direction;
  return {
    geometry: {
      dimensions: [nx, ny, nz],
      spacing: read.spacing as VolumeGeometry['spacing'],
      origin: read.origin as VolumeGeometry['origin'],
      direction: [[d[0], d[1], d[2]], [d[3], d[4], d[5]], [d[6], d[7], d[8]]],
    },
    voxels,
    label: read.label,
    segmentLabels: read.segmentLabels,
  };
}

/**
 * The CLI's result for a DICOM folder: `rt-liver segment <folder> --mask --backend <backend>` run as
 * a user runs it, the default model unless one is named; the mask read back from its NIfTI with the
 * core's reader. `wasm` is the runtime the browser uses (onnxruntime-web), `auto` the CLI's default
 * (onnxruntime-node, native CPU, here).
 */
export function cliMask(folder: string, modelName?: string, backend: 'auto' | 'cpu' | 'wasm' = 'auto'): { mask: Volume<Uint8Array>; volumeMl: number; model: string; backend: string } {
  const work = mkdtempSync(join(tmpdir(), 'rt-liver-cli-mask-'));
  try {
    const maskPath = join(work, 'mask.nii.gz');
    const args = [join(REPO_ROOT, 'cli', 'bin', 'rt-liver.cjs'), 'segment', folder, '--mask', maskPath, '--json', '-q', '--backend', backend, ...(modelName ? ['--model', modelName] : [])];
    const run = spawnSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 1 << 24 });
    if (run.status !== 0) throw new Error(`rt-liver segment failed (${run.status}): ${run.stderr}`);
    const report = JSON.parse(run.stdout.trim().split('\n').pop()!) as { volume_ml: number; model: string; backend: string };
    const bytes = readFileSync(maskPath);
    const volume = readNifti(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    const voxels = Uint8Array.from(volume.voxels as ArrayLike<number>, (v) => (v !== 0 ? 1 : 0));
    return { mask: { ...volume, voxels }, volumeMl: report.volume_ml, model: report.model, backend: report.backend };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function dice(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let both = 0;
  let sum = 0;
  for (let n = 0; n < a.length; n++) {
    const x = a[n] !== 0 ? 1 : 0;
    const y = b[n] !== 0 ? 1 : 0;
    both += x & y;
    sum += x + y;
  }
  return sum === 0 ? 1 : (2 * both) / sum;
}

/** Largest difference between two geometries: positions in mm, directions and spacing as numbers. */
export function geometryDifference(a: VolumeGeometry, b: VolumeGeometry): { dimensions: boolean; originMm: number; direction: number; spacing: number } {
  return {
    dimensions: a.dimensions.every((n, i) => n === b.dimensions[i]),
    originMm: Math.hypot(...a.origin.map((x, i) => x - b.origin[i])),
    direction: Math.max(...a.direction.flatMap((axis, i) => axis.map((x, j) => Math.abs(x - b.direction[i][j])))),
    spacing: Math.max(...a.spacing.map((x, i) => Math.abs(x - b.spacing[i]))),
  };
}

/** Median of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
