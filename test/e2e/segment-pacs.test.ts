/**
 * Store to PACS from the Real-time Liver mode, against a real Orthanc (Basic auth) behind the
 * viewer's proxy: the demo study opened from the `pacs` data source is segmented, "Store to PACS"
 * sends the SEG by STOW-RS, a notification says so, QIDO lists it; storing again keeps one instance
 * (same SOP Instance UID); with the PACS gone the store fails with a notification, the SEG stays
 * downloadable, and a retry after the PACS is back stores it. Screenshot: test-artifacts/e2e-segment-pacs.png.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PACS_DATA_SOURCE } from '../../extension/src/plugins';
import { demoStudyPaths, ensureDemoStudy } from '../../scripts/data/demo-study';
import { saveScreenshot, waitForRenderedViewports, waitForVolumesLoaded } from '../support/browser';
import { recordLongTasks, segmentOnce } from './segment-support';
import { type PacsViewerHarness, REPO_ROOT, modeUrl, startPacsViewerHarness } from './viewer-fixture';

jest.setTimeout(300_000);

const USER = 'rtliver';
const PASSWORD = 'e2e-store-secret';

let harness: PacsViewerHarness;
let page: Page;
let studyUid: string;

beforeAll(async () => {
  const demo = ensureDemoStudy(join(REPO_ROOT, 'var'));
  studyUid = demo.studyInstanceUID;
  harness = await startPacsViewerHarness({ seriesDir: demoStudyPaths(join(REPO_ROOT, 'var')).seriesDir, username: USER, password: PASSWORD, name: 'Orthanc (e2e)' });
  page = await harness.browser.newPage({ viewport: { width: 1600, height: 900 }, acceptDownloads: true });
  await recordLongTasks(page);
  await page.goto(modeUrl(harness.fixture, studyUid, PACS_DATA_SOURCE));
  await waitForRenderedViewports(page, 3);
  await waitForVolumesLoaded(page);
});

afterAll(async () => {
  await page?.close();
  await harness?.close();
});

/** The SEG series and instances Orthanc lists for the study (QIDO-RS, straight to Orthanc). */
async function segInstances(): Promise<string[]> {
  const headers = { authorization: harness.orthanc.authorization, accept: 'application/dicom+json' };
  const series = (await (await fetch(`${harness.orthanc.dicomWebUrl}/studies/${studyUid}/series?Modality=SEG`, { headers })).json()) as Record<string, { Value?: string[] }>[];
  const uids: string[] = [];
  for (const item of series) {
    const seriesUid = item['0020000E'].Value![0];
    const instances = (await (await fetch(`${harness.orthanc.dicomWebUrl}/studies/${studyUid}/series/${seriesUid}/instances`, { headers })).json()) as Record<string, { Value?: string[] }>[];
    uids.push(...instances.map((instance) => instance['00080018'].Value![0]));
  }
  return uids;
}

/**
 * The text of the notification that matches `pattern`, once it is shown (fails after 30 s). OHIF's
 * notifications (sonner toasts) stack, and an earlier test's may still be on screen: pick by content,
 * not by position.
 */
async function notificationMatching(pattern: RegExp): Promise<string> {
  const toast = page.locator('[data-sonner-toast]').filter({ hasText: pattern }).first();
  await toast.waitFor({ timeout: 30_000 });
  return (await toast.textContent()) ?? '';
}

test('Store to PACS sends the SEG by STOW-RS; QIDO lists it; storing again keeps one instance', async () => {
  expect(await segInstances()).toEqual([]);
  const run = await segmentOnce(page);
  expect(run.backend).toBe('onnxruntime-web/wasm');
  const store = page.getByTestId('rt-liver-store-seg');
  expect(await store.isEnabled()).toBe(true);
  await store.click();
  const stored = page.locator('[data-testid="rt-liver-store-state"][data-state="stored"]');
  await stored.waitFor({ timeout: 60_000 });
  expect(await notificationMatching(/Stored to PACS/)).toMatch(/Stored to PACS.*liver SEG.*AUTOMATIC.*Orthanc \(e2e\)/);
  const sop = await stored.getAttribute('data-sop-instance-uid');
  expect(await segInstances()).toEqual([sop]);
  await saveScreenshot(page, 'e2e-segment-pacs');

  await page.locator('[data-testid="rt-liver-store-seg"]:not([disabled])').click();
  await page.locator('[data-testid="rt-liver-store-state"][data-state="stored"]').waitFor({ timeout: 60_000 });
  expect(await page.getByTestId('rt-liver-store-state').getAttribute('data-sop-instance-uid')).toBe(sop);
  expect(await segInstances()).toEqual([sop]);
});

test('a failed store says so, keeps the SEG downloadable, and a retry stores it', async () => {
  // The PACS answers 503 for a while: what a PACS that is down or restarting looks like through the proxy.
  await page.route(/\/orthanc\/dicom-web\/studies\/[^/]+$/, (route) =>
    route.request().method() === 'POST' ? route.fulfill({ status: 503, contentType: 'text/plain', body: 'PACS restarting' }) : route.continue(),
  );
  // A new result, so that a new instance is stored.
  await segmentOnce(page);
  await page.getByTestId('rt-liver-store-seg').click();
  const failed = page.locator('[data-testid="rt-liver-store-state"][data-state="failed"]');
  await failed.waitFor({ timeout: 60_000 });
  expect(await failed.textContent()).toMatch(/HTTP 503.*The SEG can still be downloaded, or stored again/);
  expect(await notificationMatching(/Storing the SEG failed/)).toMatch(/Storing the SEG failed.*503/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('rt-liver-download-seg').click()]);
  expect(download.suggestedFilename()).toMatch(/^liver-seg-[\d.]+\.dcm$/);

  await page.unroute(/\/orthanc\/dicom-web\/studies\/[^/]+$/);
  const before = await segInstances();
  await page.getByTestId('rt-liver-store-seg').click();
  const stored = page.locator('[data-testid="rt-liver-store-state"][data-state="stored"]');
  await stored.waitFor({ timeout: 60_000 });
  const sop = await stored.getAttribute('data-sop-instance-uid');
  // The retry stored the very instance that was downloaded.
  expect(download.suggestedFilename()).toBe(`liver-seg-${sop}.dcm`);
  expect((await segInstances()).sort()).toEqual([...before, sop].sort());
});
