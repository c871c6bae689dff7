/**
 * The PACS proxy tried as an attacker would, over real HTTP on loopback, with a real Orthanc as the
 * PACS. Between the proxy and Orthanc sits a recording relay, so each test can say exactly which
 * requests reached the PACS and with which credentials. Another listener stands in for "some other
 * host": no request may ever reach it. A third, misbehaving server stands in for a PACS that answers
 * HTML, redirects, hangs or refuses uploads, which Orthanc cannot be made to do.
 */
import { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse, createServer, request } from 'node:http';
import { connect } from 'node:net';
import { StowError, stowInstances } from '../../extension/src/core/seg';
import { writeCtSeries } from '../../synthetic/ct-series-writer';
import type { Volume } from '../../extension/src/core/volume';
import { type OrthancHandle, startOrthanc, uploadDicom } from '../../test/support/orthanc';
import { proxyFuzzTargets } from '../../test/support/proxy-fuzz';
import { createViewerServer, defaultPaths, listen } from './app';
import type { PacsConfig } from './pacs-proxy';
import { resolve } from 'node:path';

jest.setTimeout(120_000);

const REPO_ROOT = resolve(__dirname, '..', '..');
const USER = 'rtliver';
const PASSWORD = 'proxy-test-secret';
const OUR_AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const MAX_UPLOAD = 2 * 1024 * 1024;

function tinyCt(seed: string) {
  const volume: Volume<Int16Array> = { voxels: new Int16Array(16 * 16 * 3).fill(40), dimensions: [16, 16, 3], spacing: [1, 1, 2], origin: [0, 0, 0], direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };
  return writeCtSeries(volume, { seed, patientName: 'Proxy^Test', patientID: 'PROXY', studyDescription: 'Proxy test CT' });
}

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  cookie?: string;
  origin?: string;
  completed?: boolean;
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer(handler);
  const port = await listen(server, 0, '127.0.0.1');
  return { server, url: `http://127.0.0.1:${port}`, port };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: () => { error: string; hint: string; code: string };
}

/** One request with a raw target (no URL parsing on our side), optionally with a body. */
function send(port: number, method: string, path: string, headers: Record<string, string | number> = {}, body?: Buffer | ((req: ReturnType<typeof request>) => void)): Promise<Answer> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        done({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', fail);
    });
    // The server may answer (413, 408) and close while the body is still going: not our failure.
    req.on('error', (error) => (req.writableEnded ? undefined : fail(error)));
    if (typeof body === 'function') body(req);
    else req.end(body);
  });
}

const STOW_TYPE = 'multipart/related; type="application/dicom"; boundary=b';

let orthanc: OrthancHandle;
let relay: { server: Server; url: string; port: number };
let other: { server: Server; url: string; port: number };
let odd: { server: Server; url: string; port: number };
const relayed: Seen[] = [];
const otherHost: Seen[] = [];
let oddBehaviour = 'html';
let studyUid: string;
let seriesUid: string;
let sopUid: string;
const refusals: string[] = [];

/** A viewer server on a free port; its refusals are collected instead of printed. */
async function viewer(pacs: PacsConfig | undefined, extra: { allowedHosts?: string[] } = {}) {
  const server = createViewerServer({ ...defaultPaths(REPO_ROOT), storeDir: '/nonexistent-store', pacs, log: (line) => refusals.push(line), ...extra });
  const port = await listen(server, 0, '127.0.0.1');
  return { server, port, url: `http://127.0.0.1:${port}` };
}

let main: Awaited<ReturnType<typeof viewer>>;

async function instanceCount(): Promise<number> {
  const response = await fetch(`${orthanc.url}/instances`, { headers: { authorization: orthanc.authorization } });
  return ((await response.json()) as unknown[]).length;
}

beforeAll(async () => {
  orthanc = await startOrthanc({ username: USER, password: PASSWORD });
  const ct = tinyCt('proxy-test-study');
  for (const file of ct.files) await uploadDicom(orthanc, file.bytes);
  studyUid = ct.studyInstanceUID;
  seriesUid = ct.seriesInstanceUID;
  const orthancPort = Number(new URL(orthanc.url).port);
  relay = await serve((req, res) => {
    const seen: Seen = { method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, cookie: req.headers.cookie, origin: req.headers.origin };
    relayed.push(seen);
    req.on('end', () => (seen.completed = true));
    const upstream = request({ host: '127.0.0.1', port: orthancPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.on('close', () => (req.complete ? undefined : upstream.destroy()));
    req.pipe(upstream);
  });
  other = await serve((req, res) => {
    otherHost.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    res.end('the other host');
  });
  odd = await serve((req, res) => {
    req.resume();
    const json = { 'content-type': 'application/dicom+json' };
    if (oddBehaviour === 'html') res.writeHead(200, { 'content-type': 'text/html' }).end('<script>alert(document.domain)</script>');
    else if (oddBehaviour === 'svg') res.writeHead(200, { 'content-type': 'image/svg+xml' }).end('<svg onload="alert(1)"/>');
    else if (oddBehaviour === 'xml') res.writeHead(200, { 'content-type': 'application/dicom+xml' }).end('<x/>');
    else if (oddBehaviour === 'untyped') res.writeHead(200).end('[]');
    else if (oddBehaviour === 'redirect') res.writeHead(302, { location: `${other.url}/stolen` }).end();
    else if (oddBehaviour === 'too-large') res.writeHead(413, { 'content-type': 'text/html' }).end('<html>413</html>');
    else if (oddBehaviour === 'headers') {
      res.writeHead(200, { ...json, 'set-cookie': 'session=1', 'access-control-allow-origin': '*', 'www-authenticate': 'Basic realm="x"', 'content-disposition': 'inline', 'x-powered-by': 'pacs' }).end('[]');
    }
    // 'hang': no answer at all.
  });
  main = await viewer({ url: relay.url, username: USER, password: PASSWORD, name: 'Orthanc via relay', maxUploadBytes: MAX_UPLOAD, uploadTimeoutMs: 1_500 });
  const metadata = (await (await fetch(`${main.url}/orthanc/dicom-web/studies/${studyUid}/series/${seriesUid}/metadata`)).json()) as Record<string, { Value: string[] }>[];
  sopUid = metadata[0]['00080018'].Value[0];
});

afterAll(async () => {
  for (const server of [main?.server, relay?.server, other?.server, odd?.server]) if (server) await close(server);
  await orthanc?.stop();
});

describe('what the proxy passes on', () => {
  test('QIDO, WADO-RS metadata and frames reach Orthanc with our credentials, never the browser\'s', async () => {
    const before = relayed.length;
    const browserish = { authorization: 'Basic ZXZpbDpldmls', cookie: 'session=secret', 'sec-fetch-site': 'same-origin' };
    const studies = await send(main.port, 'GET', `/orthanc/dicom-web/studies?PatientName=proxy*&includefield=00081030%2C00080061`, browserish);
    expect(studies.status).toBe(200);
    expect(studies.headers['content-type']).toMatch(/^application\/dicom\+json/);
    expect((JSON.parse(studies.text) as unknown[]).length).toBe(1);
    const frame = await send(main.port, 'GET', `/orthanc/dicom-web/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}/frames/1`, { ...browserish, accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' });
    expect(frame.status).toBe(200);
    expect(frame.headers['content-type']).toMatch(/^multipart\/related/);
    for (const answer of [studies, frame]) {
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['content-security-policy']).toContain('sandbox');
      expect(answer.headers['cross-origin-resource-policy']).toBe('same-origin');
    }
    const seen = relayed.slice(before);
    expect(seen.map((s) => [s.method, s.url.split('?')[0], s.authorization, s.cookie, s.origin])).toEqual([
      ['GET', '/dicom-web/studies', OUR_AUTH, undefined, undefined],
      ['GET', `/dicom-web/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}/frames/1`, OUR_AUTH, undefined, undefined],
    ]);
    // OHIF's encoded includefield list reaches Orthanc with literal commas.
    expect(seen[0].url).toContain('includefield=00081030,00080061');
  });

  test('STOW-RS through the proxy stores in Orthanc (the client holds no password)', async () => {
    const before = await instanceCount();
    const ct = tinyCt('proxy-test-stow');
    const result = await stowInstances(ct.files.map((file) => file.bytes), { dicomWebUrl: `${main.url}/orthanc/dicom-web` });
    expect(result.storedSopInstanceUIDs).toHaveLength(ct.files.length);
    expect(await instanceCount()).toBe(before + ct.files.length);
    expect(relayed[relayed.length - 1]).toMatchObject({ method: 'POST', url: '/dicom-web/studies', authorization: OUR_AUTH, completed: true });
  });
});

describe('requests that must never reach the PACS or another host', () => {
  test('fuzz: every encoded path variant is refused with 400/404 before any request leaves the server', async () => {
    const before = relayed.length;
    const targets = proxyFuzzTargets().map((target) => target.replace(/3250/g, String(other.port)));
    const statuses = new Map<number, number>();
    let sent = 0;
    for (const target of targets) {
      let answer: Answer;
      try {
        answer = await send(main.port, 'GET', target, { 'sec-fetch-site': 'same-origin' });
      } catch (error) {
        // Node's client refuses a few targets itself (characters it will not put on the wire).
        if ((error as NodeJS.ErrnoException).code === 'ERR_UNESCAPED_CHARACTERS') continue;
        throw error;
      }
      sent++;
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (![400, 404].includes(answer.status)) throw new Error(`${target} answered ${answer.status}: ${answer.text.slice(0, 200)}`);
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    }
    expect(sent).toBeGreaterThan(3000);
    expect([...statuses.keys()].sort()).toEqual([400, 404]);
    expect(relayed.length).toBe(before);
    expect(otherHost).toEqual([]);
  });

  test('absolute-form and "//host" request targets are refused, for the whole server', async () => {
    const before = relayed.length;
    for (const target of [`${other.url}/x`, `//127.0.0.1:${other.port}/x`, `/orthanc/${other.url}/evil.html`, `/orthanc/http:%2F%2F127.0.0.1:${other.port}/x`, `/orthanc/%2F%2F127.0.0.1:${other.port}/x`, `/orthanc/\\\\127.0.0.1:${other.port}\\x`, `/\\127.0.0.1:${other.port}/x`]) {
      const answer = await send(main.port, 'GET', target);
      expect([target, answer.status]).toEqual([target, target.startsWith('/orthanc/') ? expect.any(Number) : 400]);
      expect([400, 404]).toContain(answer.status);
      expect(answer.text).not.toContain('the other host');
    }
    expect(relayed.length).toBe(before);
    expect(otherHost).toEqual([]);
  });

  test("Orthanc's REST API and Explorer are unreachable: nothing is deleted, nothing stops", async () => {
    const before = relayed.length;
    const count = await instanceCount();
    const foreign = { origin: 'http://evil.example', 'content-type': 'text/plain' };
    const attempts: [string, string, Record<string, string>][] = [
      ['GET', '/orthanc/system', {}],
      ['GET', '/orthanc/patients', {}],
      ['GET', '/orthanc/app/explorer.html', {}],
      ['POST', '/orthanc/tools/find', { 'content-type': 'application/json' }],
      ['DELETE', `/orthanc/patients/x`, {}],
      ['DELETE', `/orthanc/dicom-web/studies/${studyUid}`, {}],
      ['PUT', '/orthanc/tools/log-level', {}],
      ['POST', '/orthanc/tools/create-dicom', { 'content-type': 'application/json' }],
      ['POST', '/orthanc/tools/shutdown', foreign],
      ['POST', '/orthanc/tools/shutdown', {}],
      ['POST', '/orthanc/instances', { 'content-type': 'application/dicom' }],
      ['POST', '/orthanc/dicom-web/servers/x/stow', { 'content-type': 'application/json' }],
      ['GET', '/orthanc/dicom-web/../system', {}],
      ['GET', '/orthanc/dicom-web/%2e%2e/system', {}],
    ];
    for (const [method, path, headers] of attempts) {
      const answer = await send(main.port, method, path, headers, Buffer.from('{}'));
      expect([method, path, [400, 403, 404, 405].includes(answer.status)]).toEqual([method, path, true]);
      expect(answer.json().hint).toBeTruthy();
    }
    expect(relayed.length).toBe(before);
    // Each refusal is logged with its reason (npm start prints them).
    expect(refusals.some((line) => /refused POST \/orthanc\/tools\/shutdown .*404 NOT_DICOMWEB/.test(line))).toBe(true);
    const system = await fetch(`${orthanc.url}/system`, { headers: { authorization: orthanc.authorization } });
    expect(system.status).toBe(200);
    expect(await instanceCount()).toBe(count);
  });

  test('methods: only GET/HEAD for reads and POST for STOW; the rest is 405 with Allow', async () => {
    const before = relayed.length;
    for (const [method, path] of [
      ['DELETE', '/orthanc/dicom-web/studies'],
      ['PUT', `/orthanc/dicom-web/studies/${studyUid}`],
      ['PATCH', '/orthanc/dicom-web/studies'],
      ['OPTIONS', '/orthanc/dicom-web/studies'],
      ['POST', `/orthanc/dicom-web/studies/${studyUid}/series`],
    ]) {
      const answer = await send(main.port, method, path);
      expect([method, path, answer.status]).toEqual([method, path, 405]);
      expect(answer.headers.allow).toMatch(/^GET, HEAD/);
    }
    expect(relayed.length).toBe(before);
  });
});

describe('same origin (Origin, Sec-Fetch-Site)', () => {
  const studies = '/orthanc/dicom-web/studies';

  test('cross-site and same-site requests are refused; same-origin, typed URLs and non-browser clients pass', async () => {
    const before = relayed.length;
    const refused: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { origin: `http://localhost:${other.port}` },
      { 'sec-fetch-site': 'same-origin', origin: 'http://evil.example' },
    ];
    for (const headers of refused) {
      const answer = await send(main.port, 'GET', studies, headers);
      expect([headers, answer.status, answer.json().code]).toEqual([headers, 403, 'CROSS_ORIGIN']);
    }
    expect(relayed.length).toBe(before);
    for (const headers of [{ 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }, { origin: main.url }, {}] as Record<string, string>[]) {
      expect([headers, (await send(main.port, 'GET', studies, headers)).status]).toEqual([headers, 200]);
    }
  });

  test('a cross-site POST (a form, or fetch no-cors) stores nothing; a same-origin one must be multipart/related', async () => {
    const before = relayed.length;
    const count = await instanceCount();
    const dicom = Buffer.from(tinyCt('proxy-test-csrf').files[0].bytes);
    const body = Buffer.concat([Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\n'), dicom, Buffer.from('\r\n--b--\r\n')]);
    const noCors = { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'content-type': 'text/plain' };
    expect((await send(main.port, 'POST', studies, noCors, body)).status).toBe(403);
    expect((await send(main.port, 'POST', studies, { ...noCors, 'content-type': STOW_TYPE }, body)).status).toBe(403);
    expect((await send(main.port, 'POST', studies, { 'sec-fetch-site': 'none', 'content-type': STOW_TYPE }, body)).status).toBe(403);
    const plain = await send(main.port, 'POST', studies, { 'sec-fetch-site': 'same-origin', 'content-type': 'text/plain' }, body);
    expect([plain.status, plain.json().code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect(relayed.length).toBe(before);
    expect(await instanceCount()).toBe(count);
    const stored = await send(main.port, 'POST', studies, { 'sec-fetch-site': 'same-origin', origin: main.url, 'content-type': STOW_TYPE }, body);
    expect(stored.status).toBe(200);
    expect(await instanceCount()).toBe(count + 1);
  });

  test("the server's API answers its own pages only", async () => {
    expect((await send(main.port, 'GET', '/rt-liver/api/pacs', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await send(main.port, 'GET', '/rt-liver/api/pacs', { 'sec-fetch-site': 'same-origin' })).status).toBe(200);
  });
});

describe('Host header (DNS rebinding)', () => {
  test('only the served host names are answered, on every route', async () => {
    for (const path of ['/', '/app-config.js', '/orthanc/dicom-web/studies', '/rt-liver/api/pacs']) {
      const before = relayed.length;
      for (const host of [`evil.example:${main.port}`, 'evil.example', `127.0.0.1.evil.example:${main.port}`, `localhost.evil.example`, `${main.port}`, 'local host']) {
        const answer = await send(main.port, 'GET', path, { host });
        expect([path, host, answer.status]).toEqual([path, host, 403]);
        expect(answer.json().code).toBe('HOST_NOT_ALLOWED');
      }
      expect(relayed.length).toBe(before);
      for (const host of [`localhost:${main.port}`, `127.0.0.1:${main.port}`, `[::1]:${main.port}`, 'LOCALHOST', 'localhost.']) {
        expect([path, host, (await send(main.port, 'GET', path, { host })).status]).toEqual([path, host, 200]);
      }
    }
  });

  test('a request without Host (HTTP/1.0) or with an empty one is refused; configured names are answered', async () => {
    const raw = (text: string) =>
      new Promise<string>((done) => {
        const socket = connect(main.port, '127.0.0.1', () => socket.end(text));
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk));
        socket.on('close', () => done(answer));
      });
    expect(await raw('GET /orthanc/dicom-web/studies HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.1 403/);
    expect(await raw('GET /orthanc/dicom-web/studies HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 (400|403)/);
    const named = await viewer(undefined, { allowedHosts: ['localhost', 'viewer.lan'] });
    try {
      expect((await send(named.port, 'GET', '/app-config.js', { host: `viewer.lan:${named.port}` })).status).toBe(200);
      expect((await send(named.port, 'GET', '/app-config.js', { host: `127.0.0.1:${named.port}` })).status).toBe(403);
    } finally {
      await close(named.server);
    }
  });
});

describe('a PACS that answers what it should not', () => {
  let oddViewer: Awaited<ReturnType<typeof viewer>>;
  beforeAll(async () => {
    oddViewer = await viewer({ url: odd.url, username: USER, password: PASSWORD, responseTimeoutMs: 800 });
  });
  afterAll(async () => close(oddViewer.server));
  const get = () => send(oddViewer.port, 'GET', '/orthanc/dicom-web/studies');

  test.each(['html', 'svg', 'xml'])('%s from the PACS never reaches the browser', async (behaviour) => {
    oddBehaviour = behaviour;
    const answer = await get();
    expect([answer.status, answer.json().code]).toEqual([502, 'PACS_CONTENT_TYPE']);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.text).not.toMatch(/<script|<svg|<x\/>/);
  });

  test('an answer without a type goes out as octet-stream, with nosniff; cookies, CORS and auth prompts are dropped', async () => {
    oddBehaviour = 'untyped';
    const untyped = await get();
    expect([untyped.status, untyped.headers['content-type'], untyped.headers['x-content-type-options']]).toEqual([200, 'application/octet-stream', 'nosniff']);
    oddBehaviour = 'headers';
    const answer = await get();
    expect(answer.status).toBe(200);
    for (const header of ['set-cookie', 'access-control-allow-origin', 'www-authenticate', 'content-disposition', 'x-powered-by']) expect(answer.headers[header]).toBeUndefined();
  });

  test('a redirect is an error, not followed: the credentials never go to where it points', async () => {
    oddBehaviour = 'redirect';
    const answer = await get();
    expect([answer.status, answer.json().code, answer.headers.location]).toEqual([502, 'PACS_REDIRECT', undefined]);
    const status = await (await fetch(`${oddViewer.url}/rt-liver/api/pacs`)).json();
    expect(status).toMatchObject({ ok: false, code: 'PACS_REDIRECT' });
    expect(otherHost).toEqual([]);
  });

  test('no answer: 504 "timed out"; an upstream 413: 413 "too large"', async () => {
    oddBehaviour = 'hang';
    const hung = await get();
    expect([hung.status, hung.json().code]).toEqual([504, 'PACS_TIMEOUT']);
    expect(hung.json().error).toMatch(/did not answer within 1 s/);
    oddBehaviour = 'too-large';
    const large = await send(oddViewer.port, 'POST', '/orthanc/dicom-web/studies', { 'content-type': STOW_TYPE }, Buffer.alloc(1000));
    expect([large.status, large.json().code]).toEqual([413, 'PACS_TOO_LARGE']);
    expect(large.text).not.toContain('<html>');
  });
});

describe('upstream errors keep their meaning', () => {
  test('credentials rejected: 401 "PACS_UNAUTHORIZED" without a login prompt; STOW then fails as unauthorized, not retryable', async () => {
    const wrong = await viewer({ url: orthanc.url, username: USER, password: 'wrong' });
    try {
      const answer = await send(wrong.port, 'GET', '/orthanc/dicom-web/studies');
      expect([answer.status, answer.json().code, answer.headers['www-authenticate']]).toEqual([401, 'PACS_UNAUTHORIZED', undefined]);
      expect(answer.json().error).toBe(`The PACS at ${orthanc.url} rejected the credentials (HTTP 401).`);
      const error = await stowInstances([tinyCt('proxy-test-401').files[0].bytes], { dicomWebUrl: `${wrong.url}/orthanc/dicom-web` }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StowError);
      expect(error).toMatchObject({ code: 'STOW_UNAUTHORIZED', retryable: false, httpStatus: 401 });
    } finally {
      await close(wrong.server);
    }
  });

  test('connection refused: 502 "PACS_UNREACHABLE"', async () => {
    const probe = await serve(() => undefined);
    await close(probe.server);
    const down = await viewer({ url: probe.url });
    try {
      const answer = await send(down.port, 'GET', '/orthanc/dicom-web/studies');
      expect([answer.status, answer.json().code, answer.json().error]).toEqual([502, 'PACS_UNREACHABLE', `The PACS at ${probe.url} is not reachable (ECONNREFUSED).`]);
    } finally {
      await close(down.server);
    }
  });
});

describe('upload caps', () => {
  const studies = '/orthanc/dicom-web/studies';

  test('a declared body over the cap: 413 before anything is read or sent to the PACS', async () => {
    const before = relayed.length;
    const answer = await send(main.port, 'POST', studies, { 'content-type': STOW_TYPE, 'content-length': MAX_UPLOAD + 1 }, (req) => req.flushHeaders());
    expect([answer.status, answer.json().code]).toEqual([413, 'UPLOAD_TOO_LARGE']);
    expect(answer.json().error).toBe('The upload is larger than this server passes to the PACS (2 MB).');
    expect(answer.json().hint).toMatch(/RT_LIVER_PACS_MAX_UPLOAD_MB/);
    expect(relayed.length).toBe(before);
  });

  test('a chunked body that grows over the cap: 413, the PACS request is aborted, nothing stored', async () => {
    const count = await instanceCount();
    const before = relayed.length;
    const answer = await send(main.port, 'POST', studies, { 'content-type': STOW_TYPE }, (req) => {
      const chunk = Buffer.alloc(64 * 1024, 1);
      let written = 0;
      const pump = () => {
        while (written < 2 * MAX_UPLOAD && !req.destroyed) {
          written += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect([answer.status, answer.json().code]).toEqual([413, 'UPLOAD_TOO_LARGE']);
    await new Promise((done) => setTimeout(done, 200));
    expect(relayed.slice(before).map((s) => [s.method, s.completed ?? false])).toEqual([['POST', false]]);
    expect(await instanceCount()).toBe(count);
  });

  test('an upload slower than the time cap: 408, the PACS request is aborted', async () => {
    const before = relayed.length;
    const started = Date.now();
    const answer = await send(main.port, 'POST', studies, { 'content-type': STOW_TYPE }, (req) => {
      req.write(Buffer.alloc(1000));
      // ...and nothing more: the cap (1.5 s here) ends it.
    });
    expect([answer.status, answer.json().code]).toEqual([408, 'UPLOAD_TIMEOUT']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    await new Promise((done) => setTimeout(done, 200));
    expect(relayed.slice(before).map((s) => [s.method, s.completed ?? false])).toEqual([['POST', false]]);
  });
});
