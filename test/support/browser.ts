/**
 * Debian's Chromium driven by playwright-core, for the e2e suite: launch flags (headless, no GPU,
 * no background traffic), screenshots under test-artifacts/, and checks of what the Cornerstone3D
 * viewports really drew (pixel statistics read from their canvases).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.RT_LIVER_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = resolve(__dirname, '..', '..', 'test-artifacts');

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchChromium(options: { webgpu?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...(options.webgpu ? ['--enable-unsafe-webgpu'] : [])],
  });
}

/** Saves a full-page screenshot as test-artifacts/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

export interface ViewportPixels {
  id: string;
  type: string;
  width: number;
  height: number;
  /** Mean and standard deviation of the grey level (0-255) over the canvas. */
  mean: number;
  std: number;
  /** Share of pixels brighter than 20 (not background). */
  litFraction: number;
}

/** Pixel statistics of every viewport of the host's Cornerstone3D rendering engines. */
export async function viewportPixels(page: Page): Promise<ViewportPixels[]> {
  return page.evaluate(() => {
    const cs = (window as unknown as { cornerstone?: { getRenderingEngines: () => { getViewports: () => { id: string; type: string; canvas: HTMLCanvasElement }[] }[] } }).cornerstone;
    if (!cs) return [];
    // Cornerstone3D draws the study browser's thumbnails through short-lived off-screen viewports of its own
    // (utilities.loadImageToCanvas -> renderToCanvasGPU, id "renderGPUViewport-<imageId>"); on a slow machine
    // one can still exist while the views are counted. They are not views the user sees.
    const onScreen = (viewport: { id: string }) => !viewport.id.startsWith('renderGPUViewport-');
    return cs.getRenderingEngines().flatMap((engine) =>
      engine.getViewports().filter(onScreen).map((viewport) => {
        const { canvas } = viewport;
        const context = canvas.getContext('2d', { willReadFrequently: true });
        const stats = { id: viewport.id, type: String(viewport.type), width: canvas.width, height: canvas.height, mean: 0, std: 0, litFraction: 0 };
        if (!context || !canvas.width || !canvas.height) return stats;
        const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
        let sum = 0;
        let sumSquares = 0;
        let lit = 0;
        const n = data.length / 4;
        for (let p = 0; p < data.length; p += 4) {
          const grey = (data[p] + data[p + 1] + data[p + 2]) / 3;
          sum += grey;
          sumSquares += grey * grey;
          if (grey > 20) lit++;
        }
        stats.mean = sum / n;
        stats.std = Math.sqrt(Math.max(0, sumSquares / n - stats.mean * stats.mean));
        stats.litFraction = lit / n;
        return stats;
      }),
    );
  });
}

/** A viewport shows an image, not a blank or flat canvas. */
export function isRendered(viewport: ViewportPixels): boolean {
  return viewport.width > 0 && viewport.litFraction > 0.02 && viewport.std > 10;
}

/** Waits until `count` viewports show real pixels; returns them and the time it took. */
export async function waitForRenderedViewports(page: Page, count: number, timeoutMs = 90_000): Promise<{ viewports: ViewportPixels[]; elapsedMs: number }> {
  const started = Date.now();
  let last: ViewportPixels[] = [];
  while (Date.now() - started < timeoutMs) {
    last = await viewportPixels(page);
    if (last.filter(isRendered).length >= count) return { viewports: last, elapsedMs: Date.now() - started };
    await page.waitForTimeout(250);
  }
  throw new Error(`Only ${last.filter(isRendered).length} of ${count} viewports rendered within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

/** Waits until every volume in the host's Cornerstone3D cache has all its slices loaded. */
export async function waitForVolumesLoaded(page: Page, timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  await page.waitForFunction(
    () => {
      type Cache = { getVolumes?: () => { loadStatus?: { loaded?: boolean } }[] };
      const cache = (window as unknown as { cornerstone?: { cache?: Cache } }).cornerstone?.cache;
      const volumes = cache?.getVolumes?.() ?? [];
      return volumes.length > 0 && volumes.every((volume) => volume.loadStatus?.loaded === true);
    },
    undefined,
    { timeout: timeoutMs, polling: 250 },
  );
  return Date.now() - started;
}
