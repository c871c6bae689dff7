/**
 * The WebGPU path of "Segment liver", once, for correctness: Chromium with --enable-unsafe-webgpu
 * offers its SwiftShader adapter (a CPU implementation, about 100x slower than WASM, which is why
 * "Automatic" never picks it); chosen by hand in the panel, the worker runs the model on
 * onnxruntime-web's WebGPU EP, and the labelmap agrees with the CLI's mask for the same model on its
 * default runtime (onnxruntime-node, native CPU). (onnxruntime-web's WASM EP differs from both by up to
 * 0.37 in the logits on this input, see docs/viewer.md; WebGPU and native agree.)
 * Screenshot: test-artifacts/e2e-segment-webgpu.png.
 */
import type { Browser, Page } from 'playwright-core';
import { join } from 'node:path';
import { demoStudyPaths } from '../../scripts/data/demo-study';
import { launchChromium, saveScreenshot, waitForRenderedViewports, waitForVolumesLoaded } from '../support/browser';
import { cliMask, dice, segmentOnce, viewerMask } from './segment-support';
import { REPO_ROOT, ViewerFixture, modeUrl, startViewerFixture } from './viewer-fixture';

jest.setTimeout(600_000);

let fixture: ViewerFixture;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  fixture = await startViewerFixture();
  browser = await launchChromium({ webgpu: true });
  page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  await page.goto(modeUrl(fixture, fixture.demo.studyInstanceUid));
  await waitForRenderedViewports(page, 3);
  await waitForVolumesLoaded(page);
});

afterAll(async () => {
  await browser?.close();
  await fixture?.close();
});

test('WebGPU (SwiftShader) chosen in the panel gives the same labelmap as the CLI', async () => {
  // "Automatic" keeps WASM on a software adapter, and says why.
  await page.getByTestId('rt-liver-backend').filter({ hasNotText: 'detecting' }).waitFor({ timeout: 60_000 });
  expect(await page.getByTestId('rt-liver-backend').textContent()).toMatch(/WASM.*CPU fallback/);
  await page.getByTestId('rt-liver-backend-choice').selectOption('webgpu');
  const run = await segmentOnce(page, 540_000);
  const warnings = (await page.getByTestId('rt-liver-warnings').textContent()) ?? '';
  if (run.backend !== 'onnxruntime-web/webgpu') {
    // The WebGPU EP could not start or run here; the panel must say so, and WASM took over.
    console.warn(`SKIPPED WebGPU correctness: ${warnings}`);
    expect(warnings).toMatch(/WebGPU/);
    return;
  }
  await saveScreenshot(page, 'e2e-segment-webgpu');
  const viewer = await viewerMask(page, run.segmentationId);
  const folder = demoStudyPaths(join(REPO_ROOT, 'var')).seriesDir;
  const cli = cliMask(folder, run.model, 'auto');
  const wasm = cliMask(folder, run.model, 'wasm');
  const score = dice(viewer.voxels, cli.mask.voxels);
  console.log(
    `WebGPU (SwiftShader): ${run.volumeMl.toFixed(1)} mL vs CLI (${cli.backend}) ${cli.volumeMl.toFixed(1)} mL, Dice ${score.toFixed(5)}; ` +
      `vs CLI (${wasm.backend}) ${wasm.volumeMl.toFixed(1)} mL, Dice ${dice(viewer.voxels, wasm.mask.voxels).toFixed(5)}; click to overlay ${run.clickToOverlayMs} ms`,
  );
  expect(cli.backend).toBe('onnxruntime-node/cpu');
  expect(score).toBeGreaterThanOrEqual(0.99);
  expect(Math.abs(run.volumeMl - cli.volumeMl) / cli.volumeMl).toBeLessThan(0.01);
});
