/**
 * The second data source end to end: a real Orthanc (Debian's, started by the test harness with
 * Basic auth, loaded with the demo study) behind our server's /orthanc proxy. The viewer opens the
 * study from it in the Real-time Liver mode; a PACS with the wrong password gives a readable
 * message in the viewer, not a blank screen or a browser login prompt; a page of another site open
 * in the same browser cannot use the proxy.
 */
import type { Browser, Page } from 'playwright-core';
import { demoStudyPaths, ensureDemoStudy } from '../../scripts/data/demo-study';
import { createViewerServer, defaultPaths, listen } from '../../scripts/server/app';
import type { OrthancHandle } from '../support/orthanc';
import { isRendered, saveScreenshot, waitForRenderedViewports, waitForVolumesLoaded } from '../support/browser';
import { type PacsViewerHarness, REPO_ROOT, ViewerFixture, modeUrl, startPacsViewerHarness } from './viewer-fixture';
import { join } from 'node:path';
import { Server, createServer } from 'node:http';
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

test('a page of another site, in the same Chromium, cannot use the proxy: no request reaches the PACS or another host', async () => {
  const refused: string[] = [];
  const viewerServer: Server = createViewerServer({
    ...defaultPaths(REPO_ROOT),
    storeDir: fixture.storeDir,
    pacs: { url: orthanc.url, username: orthanc.username, password: orthanc.password, name: 'Orthanc (attacked)' },
    log: (line) => refused.push(line),
  });
  const viewerUrl = `http://127.0.0.1:${await listen(viewerServer, 0, '127.0.0.1')}`;
  const otherHost: string[] = [];
  const other = createServer((req, res) => {
    otherHost.push(`${req.method} ${req.url}`);
    res.end();
  });
  const otherPort = await listen(other, 0, '127.0.0.1');
  const multipart = '--b\\r\\nContent-Type: application/dicom\\r\\n\\r\\nDICM\\r\\n--b--\\r\\n';
  const attack = `<!doctype html><body>
    <img src="${viewerUrl}/orthanc/http://127.0.0.1:${otherPort}/x">
    <img src="${viewerUrl}/orthanc/%2F%2F127.0.0.1:${otherPort}/x">
    <img src="${viewerUrl}/orthanc/dicom-web/studies">
    <iframe name="shutdown-sink"></iframe>
    <iframe name="stow-sink"></iframe>
    <form id="shutdown" method="POST" action="${viewerUrl}/orthanc/tools/shutdown" enctype="text/plain" target="shutdown-sink"><input name="a" value="b"></form>
    <form id="stow" method="POST" action="${viewerUrl}/orthanc/dicom-web/studies" enctype="multipart/form-data" target="stow-sink"><input name="a" value="b"></form>
    <script>
      window.attacks = Promise.allSettled([
        fetch('${viewerUrl}/orthanc/dicom-web/studies', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'multipart/related; boundary=b' }, body: '${multipart}' }),
        fetch('${viewerUrl}/orthanc/dicom-web/studies', { mode: 'no-cors' }),
        fetch('${viewerUrl}/rt-liver/api/pacs', { mode: 'no-cors' }),
      ]);
      // One frame per form: a second submission into the same frame can cancel the first before it is sent.
      document.getElementById('shutdown').submit();
      document.getElementById('stow').submit();
    </script></body>`;
  const attacker = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(attack));
  const attackerPort = await listen(attacker, 0, '127.0.0.1');
  const expectedRefusals = [
    `GET /orthanc/http://127.0.0.1:${otherPort}/x`,
    `GET /orthanc/%2F%2F127.0.0.1:${otherPort}/x`,
    'GET /orthanc/dicom-web/studies',
    'GET /orthanc/dicom-web/studies',
    'GET /rt-liver/api/pacs',
    'POST /orthanc/dicom-web/studies',
    'POST /orthanc/dicom-web/studies',
    'POST /orthanc/tools/shutdown',
  ].sort();
  const instancesBefore = ((await (await fetch(`${orthanc.url}/instances`, { headers: { authorization: orthanc.authorization } })).json()) as unknown[]).length;
  try {
    // localhost vs 127.0.0.1: another site (Sec-Fetch-Site: cross-site); 127.0.0.1 on another port: same-site.
    for (const attackerOrigin of [`http://localhost:${attackerPort}`, `http://127.0.0.1:${attackerPort}`]) {
      const count = refused.length;
      await page.goto(`${attackerOrigin}/`);
      await page.evaluate(() => (window as unknown as { attacks: Promise<unknown> }).attacks);
      const deadline = Date.now() + 10_000;
      while (refused.length - count < 8 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 100));
      // Each attack arrived and was refused: 3 images, 2 form posts, 3 fetches (named, so a miss says which).
      const arrived = refused
        .slice(count)
        .map((line) => /^rt-liver: refused (\S+ \S+) \(Host [^)]*\): 403 CROSS_ORIGIN$/.exec(line)?.[1] ?? line)
        .sort();
      expect(arrived).toEqual(expectedRefusals);
    }
    expect(otherHost).toEqual([]);
    const system = await fetch(`${orthanc.url}/system`, { headers: { authorization: orthanc.authorization } });
    expect(system.status).toBe(200);
    const instancesAfter = ((await (await fetch(`${orthanc.url}/instances`, { headers: { authorization: orthanc.authorization } })).json()) as unknown[]).length;
    expect(instancesAfter).toBe(instancesBefore);
  } finally {
    for (const server of [viewerServer, other, attacker]) {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  }
});
