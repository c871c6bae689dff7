/**
 * The viewer end to end in Debian's Chromium: the study list, the demo phantom in the Real-time
 * Liver mode (three MPR viewports with real pixels, cross-origin isolation, the panel with the
 * model and backend, the host check), a real CT from ../shared/data, and the bad-input studies.
 * Screenshots: test-artifacts/e2e-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { EXPECTED_HOST } from '../../extension/src/host';
import { isRendered, launchChromium, saveScreenshot, waitForRenderedViewports, waitForVolumesLoaded } from '../support/browser';
import { ViewerFixture, modeUrl, startViewerFixture } from './viewer-fixture';

jest.setTimeout(180_000);

let fixture: ViewerFixture;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  fixture = await startViewerFixture();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await fixture?.close();
});

beforeEach(async () => {
  page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  page.on('pageerror', (error) => console.warn(`page error: ${error.message}`));
});

afterEach(async () => {
  await page?.close();
});

async function panelText(testId: string): Promise<string> {
  return (await page.getByTestId(testId).textContent()) ?? '';
}

/** Waits until the panel has decided (ready or unavailable) and returns that state. */
async function panelState(): Promise<{ state: string; text: string }> {
  const state = page.locator('[data-testid="rt-liver-state"]:not([data-state="loading"])');
  await state.waitFor({ timeout: 60_000 });
  return { state: (await state.getAttribute('data-state')) ?? '', text: (await state.textContent()) ?? '' };
}

test('the server sends cross-origin isolation headers, serves the plugins and answers QIDO', async () => {
  for (const path of ['/', '/app-config.js', '/plugins/rt-liver-extension.js', '/plugins/rt-liver-mode.js', '/app.bundle.css']) {
    const response = await fetch(`${fixture.url}${path}`);
    expect({ path, status: response.status }).toEqual({ path, status: 200 });
    expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(response.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  }
  const wasm = await fetch(`${fixture.url}/rt-liver/ort/ort-wasm-simd-threaded.wasm`, { method: 'HEAD' });
  expect(wasm.headers.get('content-type')).toBe('application/wasm');
  const qido = await fetch(`${fixture.url}/dicomweb/studies?StudyInstanceUID=${fixture.demo.studyInstanceUid}`);
  const studies = (await qido.json()) as Record<string, { Value?: unknown[] }>[];
  expect(studies).toHaveLength(1);
  expect(studies[0]['0020000D'].Value).toEqual([fixture.demo.studyInstanceUid]);
  expect(studies[0]['00080061'].Value).toEqual(['CT']);
});

test('the study list opens the demo phantom in the Real-time Liver mode with three rendered views', async () => {
  await page.goto(fixture.url);
  const row = page.getByText('Demo abdominal CT phantom (synthetic)').first();
  await row.waitFor({ timeout: 60_000 });
  await saveScreenshot(page, 'e2e-study-list');
  await row.click();
  const modeButton = page.getByRole('button', { name: 'Real-time Liver' });
  await modeButton.waitFor({ timeout: 30_000 });
  expect(await modeButton.isDisabled()).toBe(false);
  const opened = Date.now();
  await modeButton.click();
  await page.waitForURL(/\/realtime-liver\b/);

  const { viewports } = await waitForRenderedViewports(page, 3);
  const firstImageMs = Date.now() - opened;
  await waitForVolumesLoaded(page);
  console.log(`demo phantom: three views drawn ${firstImageMs} ms after choosing the mode, whole volume loaded after ${Date.now() - opened} ms`);
  expect(viewports.filter(isRendered).map((v) => v.type)).toEqual(['orthographic', 'orthographic', 'orthographic']);

  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const host = await page.evaluate(() => (window as unknown as { rtLiverHost?: { ok: boolean; reactVersion?: string; problems: string[] } }).rtLiverHost);
  expect(host).toEqual({ ok: true, reactVersion: EXPECTED_HOST.reactVersion, problems: [] });

  const { state } = await panelState();
  expect(state).toBe('ready');
  expect(await panelText('rt-liver-study')).toContain('Phantom, Liver Demo · Demo abdominal CT phantom (synthetic)');
  expect(await panelText('rt-liver-series')).toMatch(/^CT · Abdomen portal venous 2\.5 mm \(synthetic phantom\) · \d+ images$/);
  await page.getByTestId('rt-liver-model').filter({ hasNotText: 'loading' }).waitFor();
  expect(await panelText('rt-liver-model')).toMatch(/No model is bundled yet|\d+ kB/);
  // A model never validated on patient CT says so under its name (models/manifest.json "caution").
  expect(await panelText('rt-liver-model-caution')).toMatch(/phantom/i);
  expect(await panelText('rt-liver-backend')).toMatch(/WASM, \d threads? \(cross-origin isolated|WebGPU/);
  await saveScreenshot(page, 'e2e-demo-phantom');
});

test('a real CT study from ../shared/data renders in the mode', async () => {
  if (!fixture.real) {
    console.warn('SKIPPED real CT e2e: ../shared/data/ct/crlm-ct-1004 is absent (set RT_LIVER_SHARED_DATA).');
    return;
  }
  const opened = Date.now();
  await page.goto(modeUrl(fixture, fixture.real.studyInstanceUid));
  const { viewports } = await waitForRenderedViewports(page, 3);
  const firstImageMs = Date.now() - opened;
  await waitForVolumesLoaded(page);
  console.log(`crlm-ct-1004 (512x512x41): three views drawn ${firstImageMs} ms after navigation, whole volume loaded after ${Date.now() - opened} ms`);
  expect(viewports.filter(isRendered)).toHaveLength(3);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const { state } = await panelState();
  expect(state).toBe('ready');
  expect(await panelText('rt-liver-series')).toContain('41 images');
  await saveScreenshot(page, 'e2e-real-crlm-ct-1004');
});

test('a study without CT: the mode is not offered in the list, and opened by URL the panel says why', async () => {
  await page.goto(fixture.url);
  const row = page.getByText('MR only (no CT)').first();
  await row.waitFor({ timeout: 60_000 });
  await row.click();
  // OHIF lists only the modes whose isValidMode accepts the study.
  await page.getByRole('button', { name: 'Basic Viewer' }).waitFor({ timeout: 30_000 });
  expect(await page.getByRole('button', { name: 'Real-time Liver' }).count()).toBe(0);

  await page.goto(modeUrl(fixture, fixture.noCt.studyInstanceUid));
  const { state, text } = await panelState();
  expect(state).toBe('unavailable');
  expect(text).toContain('this study has no CT series (it has MR)');
  await saveScreenshot(page, 'e2e-bad-input-no-ct');
});

test('a CT series of a single image: the image is shown and the panel says why it cannot be segmented', async () => {
  await page.goto(modeUrl(fixture, fixture.singleImage.studyInstanceUid));
  const { viewports } = await waitForRenderedViewports(page, 1);
  expect(viewports.filter(isRendered).length).toBeGreaterThanOrEqual(1);
  const { state, text } = await panelState();
  expect(state).toBe('unavailable');
  expect(text).toContain('has only 1 image');
  await saveScreenshot(page, 'e2e-bad-input-single-image');
});

test('with WebGPU enabled, the panel sees Chromium\'s software adapter and keeps WASM', async () => {
  const webgpuBrowser = await launchChromium({ webgpu: true });
  try {
    const webgpuPage = await webgpuBrowser.newPage({ viewport: { width: 1600, height: 900 } });
    await webgpuPage.goto(modeUrl(fixture, fixture.demo.studyInstanceUid));
    const backend = webgpuPage.getByTestId('rt-liver-backend').filter({ hasNotText: 'detecting' });
    await backend.waitFor({ timeout: 60_000 });
    // Headless Chromium without a GPU offers SwiftShader, flagged as a fallback adapter.
    expect(await backend.textContent()).toMatch(/^WASM, \d threads? \(cross-origin isolated; the WebGPU adapter \(.*swiftshader\) is a CPU fallback\)$/);
  } finally {
    await webgpuBrowser.close();
  }
});
