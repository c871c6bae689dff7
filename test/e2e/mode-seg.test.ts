/**
 * A stored SEG reopens in the Real-time Liver mode, and the PACS study list is one click away:
 * the SEG our writer makes of the demo phantom's ground-truth liver mask is stored with our
 * STOW-RS client in a real Orthanc (Basic auth, behind the viewer's proxy); the study list of the
 * local store links to the PACS's; the mode lists the SEG as a supported series, and opening it
 * turns it into a labelmap with the segment "Liver" on exactly the mask's voxels, plane by plane
 * on the CT image each belongs to. Screenshots: test-artifacts/e2e-mode-seg-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { PACS_DATA_SOURCE } from '../../extension/src/plugins';
import { dicomSeg } from '../../modes/realtime-liver/src/index';
import { saveScreenshot, waitForRenderedViewports } from '../support/browser';
import { type PacsViewerHarness, ViewerFixture, modeUrl } from './viewer-fixture';
import { storeGroundTruthSeg } from './ground-truth-seg';
import { type PlaneStats, ohifSegmentations, overlayPixelsByViewport } from './seg-in-page';

jest.setTimeout(240_000);

const USER = 'rtliver';
const PASSWORD = 'e2e-mode-seg-secret';
const PACS_NAME = 'Orthanc (mode e2e)';
const SEG_DESCRIPTION = 'rt-liver liver SEG (ground truth)';

let harness: PacsViewerHarness | undefined;
let fixture: ViewerFixture;
let browser: Browser;
let page: Page;
let studyUid: string;
let segSeriesUid: string;
let maskVoxelCount: number;
let maskBySourceInstance: Record<string, PlaneStats>;
const pageErrors: string[] = [];

beforeAll(async () => {
  const groundTruth = await storeGroundTruthSeg({
    username: USER,
    password: PASSWORD,
    pacsName: PACS_NAME,
    seriesDescription: SEG_DESCRIPTION,
  });
  ({ harness, studyUid, segSeriesUid, maskVoxelCount, maskBySourceInstance } = groundTruth);
  ({ fixture, browser } = groundTruth.harness);
});

afterAll(async () => {
  await harness?.close();
});

beforeEach(async () => {
  page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterEach(async () => {
  await page?.close();
});

/** Waits until the viewports' overlay pixel counts satisfy `done` (15 s at most); returns the last counts. */
async function waitForOverlay(target: Page, done: (counts: Record<string, number>) => boolean): Promise<Record<string, number>> {
  const started = Date.now();
  let counts = await overlayPixelsByViewport(target);
  while (!done(counts) && Date.now() - started < 15_000) {
    await target.waitForTimeout(250);
    counts = await overlayPixelsByViewport(target);
  }
  return counts;
}

test('the study list names its data source and links to the PACS study list, which lists the stored study', async () => {
  await page.goto(fixture.url);
  const badge = page.getByTestId('rt-liver-data-source');
  await badge.waitFor({ timeout: 60_000 });
  expect(await badge.getAttribute('data-source')).toBe('local');
  const link = badge.locator(`a[data-source-link="${PACS_DATA_SOURCE}"]`);
  expect(await link.innerText()).toBe(`${PACS_NAME} study list`);
  await saveScreenshot(page, 'e2e-mode-seg-study-list-local');

  await link.click();
  await page.waitForURL(/[?&]datasources=pacs\b/);
  await page.getByTestId('rt-liver-data-source').and(page.locator(`[data-source="${PACS_DATA_SOURCE}"]`)).waitFor({ timeout: 30_000 });
  expect(await page.getByTestId('rt-liver-data-source').innerText()).toContain(PACS_NAME);
  // The PACS holds only the demo study (its CT and the SEG); the local store has four studies.
  const row = page.getByText('Demo abdominal CT phantom (synthetic)').first();
  await row.waitFor({ timeout: 60_000 });
  expect(await page.getByText('CT series of one image').count()).toBe(0);
  await saveScreenshot(page, 'e2e-mode-seg-study-list-pacs');
  // And back: the PACS list links to the local one.
  expect(await page.locator('a[data-source-link="local"]').getAttribute('href')).toBe('/?datasources=local');
});

test('the mode lists the stored SEG as a supported series and opens it as the Liver labelmap on the right slices', async () => {
  await page.goto(modeUrl(fixture, studyUid, PACS_DATA_SOURCE));
  await waitForRenderedViewports(page, 3);
  expect(await page.getByTestId('rt-liver-data-source').getAttribute('data-source')).toBe(PACS_DATA_SOURCE);
  const segItem = page.locator('[data-cy="study-browser-thumbnail-no-image"]', { hasText: SEG_DESCRIPTION });
  await segItem.waitFor({ timeout: 30_000 });
  expect(await segItem.innerText()).toMatch(/^SEG\b/);
  const segDisplaySets = await page.evaluate(() => {
    type DisplaySet = { Modality?: string; SeriesInstanceUID?: string; SOPClassHandlerId?: string; unsupported?: boolean };
    const services = (window as unknown as { services: { displaySetService: { getActiveDisplaySets: () => DisplaySet[] } } }).services;
    return services.displaySetService.getActiveDisplaySets().filter((ds) => ds.Modality === 'SEG').map((ds) => ({ uid: ds.SeriesInstanceUID, handler: ds.SOPClassHandlerId, unsupported: ds.unsupported ?? false }));
  });
  expect(segDisplaySets).toEqual([{ uid: segSeriesUid, handler: dicomSeg.sopClassHandler, unsupported: false }]);
  expect(await page.getByText(/Unsupported/i).count()).toBe(0);
  await saveScreenshot(page, 'e2e-mode-seg-listed');

  const opened = Date.now();
  await segItem.dblclick();
  await page.waitForFunction(
    () => (window as unknown as { services: { segmentationService: { getSegmentations: () => unknown[] } } }).services.segmentationService.getSegmentations().length > 0,
    undefined,
    { timeout: 60_000, polling: 250 },
  );
  const labelmapMs = Date.now() - opened;
  const [segmentation, ...others] = await ohifSegmentations(page);
  expect(others).toHaveLength(0);
  expect(segmentation.label).toBe(SEG_DESCRIPTION);
  expect(segmentation.segmentLabels).toEqual(['Liver']);
  expect(segmentation.nonZeroVoxels).toBe(maskVoxelCount);
  expect(segmentation.bySourceInstance).toEqual(maskBySourceInstance);

  // Drawn over the CT (the liver's colour where the canvas was grey before), first as OHIF's
  // preview in the viewport it was opened in.
  const preview = await waitForOverlay(page, (counts) => Object.values(counts).some((n) => n > 500));
  expect(Math.max(...Object.values(preview))).toBeGreaterThan(500);
  await saveScreenshot(page, 'e2e-mode-seg-preview');

  // "Yes" makes it an editable segmentation of the CT: the same voxels, now in all three views.
  const yes = Date.now();
  await page.getByRole('button', { name: 'Yes' }).click();
  const hydrated = await waitForOverlay(page, (counts) => Object.values(counts).filter((n) => n > 100).length === 3);
  expect((await ohifSegmentations(page)).map((s) => [s.segmentLabels, s.nonZeroVoxels])).toEqual([[['Liver'], maskVoxelCount]]);
  expect(Object.values(hydrated).filter((n) => n > 100)).toHaveLength(3);
  const allViewsMs = Date.now() - yes;
  await saveScreenshot(page, 'e2e-mode-seg-hydrated');
  console.log(
    `SEG in the mode: labelmap in the cache ${labelmapMs} ms after the double-click, drawn in all three views ${allViewsMs} ms after "Yes"; ` +
      `overlay pixels by viewport, preview ${JSON.stringify(preview)}, hydrated ${JSON.stringify(hydrated)}`,
  );
  expect(pageErrors).toEqual([]);
});
