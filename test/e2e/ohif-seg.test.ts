/**
 * OHIF's own SEG viewer loads the DICOM SEG that rt-liver writes: the SEG of the demo phantom's
 * ground-truth liver mask is stored with our STOW-RS client in a real Orthanc, and OHIF's basic
 * viewer mode (with @ohif/extension-cornerstone-dicom-seg), reading that Orthanc through our
 * server's proxy, lists it in the study panel and turns it into a labelmap segmentation with the
 * segment "Liver" on exactly the mask's voxels.
 */
import type { Browser, Page } from 'playwright-core';
import { PACS_DATA_SOURCE } from '../../extension/src/plugins';
import { isRendered, saveScreenshot, waitForRenderedViewports } from '../support/browser';
import { type PacsViewerHarness, ViewerFixture, modeUrl } from './viewer-fixture';
import { storeGroundTruthSeg } from './ground-truth-seg';
import { type PlaneStats, ohifSegmentations, overlayPixelsByViewport } from './seg-in-page';

jest.setTimeout(180_000);

const USER = 'rtliver';
const PASSWORD = 'e2e-seg-secret';

let harness: PacsViewerHarness | undefined;
let fixture: ViewerFixture;
let browser: Browser;
let page: Page;
let studyUid: string;
let segSeriesUid: string;
let maskVoxelCount: number;
/** The ground-truth mask's liver pixels on each CT image (by SOPInstanceUID). */
let maskBySourceInstance: Record<string, PlaneStats>;

beforeAll(async () => {
  const groundTruth = await storeGroundTruthSeg({
    username: USER,
    password: PASSWORD,
    pacsName: 'Orthanc (SEG e2e)',
    seriesDescription: 'rt-liver liver SEG (ground truth)',
  });
  ({ harness, studyUid, segSeriesUid, maskVoxelCount, maskBySourceInstance } = groundTruth);
  ({ fixture, browser } = groundTruth.harness);
});

afterAll(async () => {
  await harness?.close();
});

beforeEach(async () => {
  page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error') console.log(`browser: ${message.text()}`);
  });
});

afterEach(async () => {
  await page?.close();
});

/** Canvas pixels of all viewports drawn in a clearly reddish hue (the SEG's liver colour over grey CT). */
async function overlayPixelCount(target: Page): Promise<number> {
  return Object.values(await overlayPixelsByViewport(target)).reduce((sum, count) => sum + count, 0);
}

/** Waits until the viewports show the overlay; returns its pixel count (0 when it never appears). */
async function waitForOverlay(target: Page, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  let count = 0;
  while ((count = await overlayPixelCount(target)) === 0 && Date.now() - started < timeoutMs) await target.waitForTimeout(200);
  return count;
}

test("OHIF's basic viewer lists our SEG in the study panel and loads it as the liver labelmap", async () => {
  const started = Date.now();
  await page.goto(`${fixture.url}/viewer/${PACS_DATA_SOURCE}?StudyInstanceUIDs=${studyUid}`);
  await waitForRenderedViewports(page, 1);
  // The SEG has no image thumbnail: OHIF lists it as a text item with modality and description.
  const segItem = page.locator('[data-cy="study-browser-thumbnail-no-image"]', { hasText: 'rt-liver liver SEG (ground truth)' });
  await segItem.waitFor({ timeout: 30_000 });
  expect(await segItem.innerText()).toMatch(/^SEG\b/);
  const segDisplaySets = await page.evaluate(() => {
    type DisplaySet = { Modality?: string; SeriesInstanceUID?: string };
    const services = (window as unknown as { services: { displaySetService: { getActiveDisplaySets: () => DisplaySet[] } } }).services;
    return services.displaySetService.getActiveDisplaySets().filter((ds) => ds.Modality === 'SEG').map((ds) => ds.SeriesInstanceUID);
  });
  expect(segDisplaySets).toEqual([segSeriesUid]);
  expect(await overlayPixelCount(page)).toBe(0);
  await saveScreenshot(page, 'e2e-ohif-seg-listed');

  // Double-click loads it into the active viewport, over its CT, as a preview.
  await segItem.dblclick();
  await page.waitForFunction(
    () => (window as unknown as { services: { segmentationService: { getSegmentations: () => unknown[] } } }).services.segmentationService.getSegmentations().length > 0,
    undefined,
    { timeout: 30_000, polling: 250 },
  );
  const [segmentation, ...others] = await ohifSegmentations(page);
  expect(others).toHaveLength(0);
  expect(segmentation.label).toBe('rt-liver liver SEG (ground truth)');
  expect(segmentation.segmentLabels).toEqual(['Liver']);
  expect(segmentation.nonZeroVoxels).toBe(maskVoxelCount);
  // Every plane on the CT image it belongs to (matched by SOPInstanceUID, not by index), not mirrored.
  expect(segmentation.bySourceInstance).toEqual(maskBySourceInstance);

  // The overlay is drawn too (the canvas showed no liver colour before).
  expect(await waitForOverlay(page)).toBeGreaterThan(500);
  await saveScreenshot(page, 'e2e-ohif-seg-preview');

  // OHIF asks before it turns the preview into an editable segmentation; "Yes" hydrates it.
  // After it the viewport's SEG preview controls (the "LOAD" button) are gone, the overlay stays.
  await page.getByRole('button', { name: 'Yes' }).click();
  await page.getByText('LOAD', { exact: true }).waitFor({ state: 'detached', timeout: 30_000 });
  const hydrated = await ohifSegmentations(page);
  expect(hydrated.map((s) => [s.segmentLabels, s.nonZeroVoxels])).toEqual([[['Liver'], maskVoxelCount]]);
  expect(await waitForOverlay(page)).toBeGreaterThan(500);
  await saveScreenshot(page, 'e2e-ohif-seg-hydrated');
  console.log(`SEG loaded and checked ${Date.now() - started} ms after navigation`);
});

test('the Real-time Liver mode opens the CT of a study that holds a SEG, ready to segment (the SEG itself: mode-seg.test.ts)', async () => {
  await page.goto(modeUrl(fixture, studyUid, PACS_DATA_SOURCE));
  const { viewports } = await waitForRenderedViewports(page, 3);
  expect(viewports.filter(isRendered)).toHaveLength(3);
  const state = page.locator('[data-testid="rt-liver-state"]:not([data-state="loading"])');
  await state.waitFor({ timeout: 60_000 });
  expect(await state.getAttribute('data-state')).toBe('ready');
  await saveScreenshot(page, 'e2e-ohif-seg-realtime-liver-mode');
});
