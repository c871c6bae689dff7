/**
 * The second data source end to end: a real Orthanc (Debian's, started by the test harness with
 * Basic auth, loaded with the demo study) behind our server's /orthanc proxy. The viewer opens the
 * study from it in the Real-time Liver mode; a PACS with the wrong password gives a readable
 * message in the viewer, not a blank screen or a browser login prompt.
 */
import type { Browser, Page } from 'playwright-core';
import { demoStudyPaths, ensureDemoStudy } from '../../scripts/data/demo-study';
import { createViewerServer, defaultPaths, listen } from '../../scripts/server/app';
import type { OrthancHandle } from '../support/orthanc';
import { isRendered, saveScreenshot, waitForRenderedViewports, waitForVolumesLoaded } from '../support/browser';
import { type PacsViewerHarness, REPO_ROOT, ViewerFixture, modeUrl, startPacsViewerHarness } from './viewer-fixture';
import { join } from 'node:path';
import { Server } from 'node:http';
import { PACS_DATA_SOURCE } from '../../extension/src/plugins';

jest.setTimeout(180_000);

let harness: PacsViewerHarness | undefined;
let orthanc: OrthancHandle;
let fixture: ViewerFixture;
let browser: Browser;
let page: Page;
let demoStudyUid: string;

beforeAll(async () => {
  const varDir = join(REPO_ROOT, 'var');
  demoStudyUid = ensureDemoStudy(varDir).studyInstanceUID;
  harness = await startPacsViewerHarness({ seriesDir: demoStudyPaths(varDir).seriesDir, username: 'rtliver', password: 'e2e-secret', name: 'Orthanc (e2e)' });
  ({ orthanc, fixture, browser } = harness);
  expect(harness.uploaded).toBeGreaterThan(0);
});

afterAll(async () => {
  await harness?.close();
});

beforeEach(async () => {
  page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
});

afterEach(async () => {
  await page?.close();
});

test('the proxy answers QIDO with the PACS credentials, which the browser never sees', async () => {
  const response = await fetch(`${fixture.url}/orthanc/dicom-web/studies?StudyInstanceUID=${demoStudyUid}`);
  expect(response.status).toBe(200);
  expect(response.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  const studies = (await response.json()) as Record<string, { Value?: unknown[] }>[];
  expect(studies.map((s) => s['0020000D'].Value?.[0])).toEqual([demoStudyUid]);
  const config = await (await fetch(`${fixture.url}/app-config.js`)).text();
  expect(config).not.toContain('e2e-secret');
  expect(config).toContain('"Orthanc (e2e)"');
});

test('the study list of the PACS data source shows the demo study', async () => {
  await page.goto(`${fixture.url}/?datasources=${PACS_DATA_SOURCE}`);
  await page.getByText('Demo abdominal CT phantom (synthetic)').first().waitFor({ timeout: 60_000 });
  await saveScreenshot(page, 'e2e-orthanc-study-list');
});

test('the demo study opens from Orthanc in the Real-time Liver mode', async () => {
  const opened = Date.now();
  await page.goto(modeUrl(fixture, demoStudyUid, PACS_DATA_SOURCE));
  const { viewports } = await waitForRenderedViewports(page, 3);
  const firstImageMs = Date.now() - opened;
  await waitForVolumesLoaded(page);
  console.log(`demo phantom from Orthanc: three views drawn ${firstImageMs} ms after navigation, whole volume after ${Date.now() - opened} ms`);
  expect(viewports.filter(isRendered)).toHaveLength(3);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const state = page.locator('[data-testid="rt-liver-state"]:not([data-state="loading"])');
  await state.waitFor({ timeout: 60_000 });
  expect(await state.getAttribute('data-state')).toBe('ready');
  await saveScreenshot(page, 'e2e-orthanc-demo');
});

test('a PACS that rejects the credentials: a readable message, in the viewer and from the proxy', async () => {
  const server: Server = createViewerServer({
    ...defaultPaths(REPO_ROOT),
    storeDir: fixture.storeDir,
    pacs: { url: orthanc.url, username: 'rtliver', password: 'wrong-password', name: 'Orthanc (bad password)' },
  });
  const url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
  try {
    const proxied = await fetch(`${url}/orthanc/dicom-web/studies`);
    // The PACS's 401 keeps its meaning (without WWW-Authenticate: no browser login prompt).
    expect(proxied.status).toBe(401);
    expect(proxied.headers.get('www-authenticate')).toBeNull();
    expect(((await proxied.json()) as { error: string }).error).toBe(`The PACS at ${orthanc.url} rejected the credentials (HTTP 401).`);

    await page.goto(`${url}/realtime-liver/${PACS_DATA_SOURCE}?StudyInstanceUIDs=${demoStudyUid}`);
    await page.getByText('rejected the credentials', { exact: false }).first().waitFor({ timeout: 30_000 });
    await saveScreenshot(page, 'e2e-orthanc-bad-credentials');
  } finally {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
});
