/**
 * The viewer server without a browser: publishing a DICOM folder into the static store, QIDO /
 * WADO-RS answers, headers and MIME types, the generated app-config.js, and readable PACS errors.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeCtSeries } from '../../synthetic/ct-series-writer';
import type { Volume } from '../../extension/src/core/volume';
import { EXTENSION_PLUGIN_URL, MODE_PLUGIN_URL, PACS_STATUS_PATH } from '../../extension/src/plugins';
import { renderAppConfig } from './app-config';
import { createViewerServer, defaultPaths, listen } from './app';
import { publishDicom } from './publish';
import { defaultSources, publishSources } from './sources';
import { handleStoreRequest } from './store';

const REPO_ROOT = resolve(__dirname, '..', '..');
const [NX, NY, NZ] = [32, 24, 10];

function tinyCt(): Volume<Int16Array> {
  const voxels = new Int16Array(NX * NY * NZ).map((_, p) => (p % NX) * 10 - 500);
  return { voxels, dimensions: [NX, NY, NZ], spacing: [1, 1, 2], origin: [0, 0, 0], direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };
}

let work: string;
let source: string;
let storeDir: string;
let studyUid: string;
let seriesUid: string;
let sourceHashBefore: string;

function hashFolder(folder: string, names: string[]): string {
  const hash = createHash('sha256');
  for (const name of names) hash.update(readFileSync(join(folder, name)));
  return hash.digest('hex');
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rt-liver-server-'));
  source = join(work, 'source');
  storeDir = join(work, 'store');
  mkdirSync(source);
  const series = writeCtSeries(tinyCt(), { seed: 'server-test', patientName: 'Test^Tiny', patientID: 'TINY', studyDescription: 'Tiny CT' });
  for (const file of series.files) writeFileSync(join(source, file.name), new Uint8Array(file.bytes));
  writeFileSync(join(source, 'README.txt'), 'not DICOM');
  studyUid = series.studyInstanceUID;
  seriesUid = series.seriesInstanceUID;
  sourceHashBefore = hashFolder(source, series.files.map((f) => f.name));
  const result = publishDicom(source, storeDir);
  expect(result.studies).toEqual([{ studyInstanceUid: studyUid, series: 1, instances: NZ, description: 'Tiny CT' }]);
  expect(result.skippedFiles).toEqual([{ path: join(source, 'README.txt'), reason: 'not a DICOM Part 10 file' }]);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the static DICOMweb store', () => {
  const get = (path: string, query = '') => handleStoreRequest(storeDir, path, new URLSearchParams(query));
  const body = (path: string, query = '') => JSON.parse(String(get(path, query).body));

  test('leaves the source files untouched', () => {
    const files = readdirSync(source).filter((name) => name !== 'README.txt');
    expect(hashFolder(source, files)).toBe(sourceHashBefore);
  });

  test('QIDO studies: filters by StudyInstanceUID, PatientName wildcard and modality', () => {
    expect(body('/studies')).toHaveLength(1);
    expect(body('/studies', `StudyInstanceUID=${studyUid}`)[0]['00201208'].Value).toEqual([NZ]);
    expect(body('/studies', 'StudyInstanceUID=1.2.3')).toEqual([]);
    expect(body('/studies', 'PatientName=test*')).toHaveLength(1);
    expect(body('/studies', 'ModalitiesInStudy=MR')).toEqual([]);
    expect(body('/studies', 'limit=1&offset=1')).toEqual([]);
  });

  test('QIDO series and WADO-RS metadata, sorted by instance number, pixel data as a bulk data link', () => {
    const series = body(`/studies/${studyUid}/series`);
    expect(series.map((s: Record<string, { Value: unknown[] }>) => [s['0020000E'].Value[0], s['00080060'].Value[0], s['00201209'].Value[0]])).toEqual([[seriesUid, 'CT', NZ]]);
    const metadata = body(`/studies/${studyUid}/series/${seriesUid}/metadata`);
    expect(metadata).toHaveLength(NZ);
    expect(metadata.map((m: Record<string, { Value: number[] }>) => m['00200013'].Value[0])).toEqual([...Array(NZ).keys()].map((i) => i + 1));
    const sop = metadata[0]['00080018'].Value[0];
    expect(metadata[0]['7FE00010']).toEqual({ vr: 'OW', BulkDataURI: `/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${sop}/frames/1` });
    expect(metadata[0]['00083002'].Value).toEqual(['1.2.840.10008.1.2.1']);
  });

  test('frames: raw little-endian pixels labelled with their transfer syntax', () => {
    const metadata = body(`/studies/${studyUid}/series/${seriesUid}/metadata`);
    const sop = metadata[0]['00080018'].Value[0];
    const frame = get(`/studies/${studyUid}/series/${seriesUid}/instances/${sop}/frames/1`);
    expect(frame.status).toBe(200);
    expect(frame.contentType).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
    expect((frame.body as Buffer).byteLength).toBe(NX * NY * 2);
  });

  test('unknown studies are 404 and malformed UIDs 400, with a readable message', () => {
    expect(get('/studies/1.2.3/series')).toMatchObject({ status: 404, body: expect.stringContaining('Study 1.2.3 is not in the local DICOMweb store') });
    expect(get('/studies/..%2F..%2Fetc/series').status).toBe(400);
    expect(get('/studies/../../etc').status).toBe(400);
  });
});

describe('app-config.js', () => {
  test('loads our plugins and the local store; adds the PACS through the same-origin proxy when configured', () => {
    const local = renderAppConfig();
    expect(local).toContain(`extensions: [${JSON.stringify(EXTENSION_PLUGIN_URL)}]`);
    expect(local).toContain(`modes: [${JSON.stringify(MODE_PLUGIN_URL)}]`);
    expect(local).toContain('window.location.origin + "/dicomweb"');
    expect(local).not.toContain('/orthanc');
    const withPacs = renderAppConfig({ pacsName: 'Orthanc' });
    expect(withPacs).toContain('window.location.origin + "/orthanc/dicom-web"');
    expect(withPacs).toContain('sourceName: "pacs"');
    // It must be valid JavaScript that sets window.config.
    const window: { config?: { dataSources: unknown[] } } = {};
    new Function('window', withPacs.replace(/window\.location\.origin/g, '"http://x"'))(window);
    expect(window.config?.dataSources).toHaveLength(2);
  });
});

describe('the HTTP server', () => {
  let server: Server;
  let url: string;
  let closedPort: number;

  beforeAll(async () => {
    // A port nothing listens on: the "PACS is down" case.
    const probe = createServer();
    closedPort = await listen(probe, 0, '127.0.0.1');
    await new Promise((done) => probe.close(done));
    server = createViewerServer({ ...defaultPaths(REPO_ROOT), storeDir, pacs: { url: `http://127.0.0.1:${closedPort}`, username: 'u', password: 'p', name: 'Down' } });
    url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  test('every response is cross-origin isolated, with the right MIME type', async () => {
    const cases: [string, number, string][] = [
      ['/', 200, 'text/html; charset=utf-8'],
      ['/app-config.js', 200, 'text/javascript; charset=utf-8'],
      ['/rt-liver/ort/ort-wasm-simd-threaded.wasm', 200, 'application/wasm'],
      ['/rt-liver/ort/ort.wasm.min.mjs', 200, 'text/javascript; charset=utf-8'],
      ['/dicomweb/studies', 200, 'application/dicom+json'],
      ['/no-such-file.js', 404, 'application/json; charset=utf-8'],
    ];
    for (const [path, status, type] of cases) {
      const response = await fetch(`${url}${path}`, { method: path.endsWith('.wasm') ? 'HEAD' : 'GET' });
      expect([path, response.status, response.headers.get('content-type')]).toEqual([path, status, type]);
      expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(response.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(response.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  test('error bodies are JSON with a hint and never show the server\'s folders', async () => {
    const cases: [string, number][] = [
      ['/no-such-file.js', 404],
      ['/plugins/no-such-plugin.js', 404],
      ['/models/no-such-model.onnx', 404],
      ['/rt-liver/ort/nothing.wasm', 404],
      ['/models/..%2F..%2Fpackage.json', 403],
      ['/dicomweb/studies/1.2.3/series', 404],
      ['/dicomweb/studies/not-a-uid', 400],
      ['/dicomweb/nothing', 404],
      ['/%E0%A4%A', 400],
      ['/rt-liver/api/nothing', 404],
      ['/orthanc/system', 404],
    ];
    for (const [path, status] of cases) {
      const response = await fetch(`${url}${path}`);
      const text = await response.text();
      expect([path, response.status]).toEqual([path, status]);
      expect(JSON.parse(text)).toMatchObject({ error: expect.any(String) });
      for (const folder of [REPO_ROOT, storeDir, tmpdir(), '/work/', '/tmp/', 'node_modules']) expect([path, text.includes(folder)]).toEqual([path, false]);
    }
  });

  test('client-side routes get the single-page app; paths cannot leave the served folders', async () => {
    const route = await fetch(`${url}/realtime-liver/local?StudyInstanceUIDs=${studyUid}`);
    expect(await route.text()).toContain('app.bundle');
    const escape = await fetch(`${url}/models/..%2F..%2Fpackage.json`);
    expect(escape.status).toBe(403);
  });

  test('a PACS that is down gives a readable 502 and a status the viewer shows', async () => {
    const response = await fetch(`${url}/orthanc/dicom-web/studies`);
    expect(response.status).toBe(502);
    const error = (await response.json()) as { error: string; hint: string };
    expect(error.error).toBe(`The PACS at http://127.0.0.1:${closedPort} is not reachable (ECONNREFUSED).`);
    expect(error.hint).toMatch(/RT_LIVER_PACS_URL/);
    const status = await (await fetch(`${url}${PACS_STATUS_PATH}`)).json();
    expect(status).toMatchObject({ configured: true, ok: false, message: error.error });
  });
});

describe('the sources npm start publishes', () => {
  test('the demo phantom when generated, the real studies and bad-input cases when ../shared/data exists', () => {
    const root = mkdtempSync(join(tmpdir(), 'rt-liver-sources-'));
    try {
      expect(defaultSources(join(root, 'repo'), join(root, 'no-shared-data'))).toEqual([]);
      mkdirSync(join(root, 'repo', 'var', 'studies', 'phantom'), { recursive: true });
      for (const study of ['crlm-ct-1004', 'pancreas-ct-cb-001']) mkdirSync(join(root, 'shared', 'ct', study), { recursive: true });
      const names = defaultSources(join(root, 'repo'), join(root, 'shared')).map((source) => source.name);
      expect(names).toEqual(['phantom', 'crlm-ct-1004', 'pancreas-ct-cb-001']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a source is published again only when its files changed', () => {
    const store = join(work, 'store-sources');
    const lines: string[] = [];
    publishSources([{ name: 'tiny', files: source }], store, (line) => lines.push(line));
    publishSources([{ name: 'tiny', files: source }], store, (line) => lines.push(line));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^published tiny: 1 study, ${NZ} instances in \\d+ ms$`));
  });
});
