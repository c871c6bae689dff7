/**
 * `rt-liver segment --store` against a real Orthanc (Basic auth): the SEG lands in the source study
 * (QIDO lists it); running the command again stores the same instance, not a second one; a PACS that
 * is down or refuses the credentials gives the message the viewer's server gives for the same
 * problem (scripts/server/pacs-proxy.ts checkPacs), exit 2, and the SEG file stays written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPacs } from '../../scripts/server/pacs-proxy';
import { makeAbdomenPhantom } from '../../synthetic/phantom';
import { writeCtSeries } from '../../synthetic/ct-series-writer';
import { storeSeg } from '../../cli/src/store';
import { writeLiverSeg } from '../../extension/src/core/seg';
import { startOrthanc, uploadDicom, type OrthancHandle } from '../support/orthanc';
import { multipartParts } from './support/multipart';
import { TEST_ALGORITHM, TEST_DEVICE, makeSegCase } from './support/seg-cases';

jest.setTimeout(180_000);

const BIN = join(__dirname, '..', '..', 'cli', 'bin', 'rt-liver.cjs');
const { ct } = makeAbdomenPhantom({ seed: 'cli-store', dimensions: [96, 80, 24], spacing: [3.5, 3.5, 8] });
const ctSeries = writeCtSeries(ct, { seed: 'cli-store' });

function rtLiver(args: string[], env: Record<string, string>) {
  const child = spawnSync(process.execPath, [BIN, 'segment', ...args], { encoding: 'utf8', timeout: 150_000, env: { ...process.env, ...env } });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('rt-liver segment --store to a real Orthanc', () => {
  let orthanc: OrthancHandle;
  let work: string;
  let series: string;
  let env: { RT_LIVER_PACS_URL: string; RT_LIVER_PACS_USER: string; RT_LIVER_PACS_PASSWORD: string };

  beforeAll(async () => {
    orthanc = await startOrthanc();
    for (const file of ctSeries.files) await uploadDicom(orthanc, file.bytes);
    work = mkdtempSync(join(tmpdir(), 'rt-liver-store-'));
    series = join(work, 'series');
    mkdirSync(series);
    for (const file of ctSeries.files) writeFileSync(join(series, file.name), new Uint8Array(file.bytes));
    const pacsUrl = orthanc.dicomWebUrl.replace(/\/dicom-web\/?$/, '');
    env = { RT_LIVER_PACS_URL: pacsUrl, RT_LIVER_PACS_USER: orthanc.username, RT_LIVER_PACS_PASSWORD: orthanc.password };
  });
  afterAll(async () => {
    await orthanc?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  async function segSeries(): Promise<Array<{ series: string; instances: string[] }>> {
    const headers = { authorization: orthanc.authorization, accept: 'application/dicom+json' };
    const list = (await (await fetch(`${orthanc.dicomWebUrl}/studies/${ctSeries.studyInstanceUID}/series?Modality=SEG`, { headers })).json()) as Array<Record<string, { Value?: string[] }>>;
    return Promise.all(
      list.map(async (item) => {
        const uid = item['0020000E'].Value![0];
        const instances = (await (await fetch(`${orthanc.dicomWebUrl}/studies/${ctSeries.studyInstanceUID}/series/${uid}/instances`, { headers })).json()) as Array<Record<string, { Value?: string[] }>>;
        return { series: uid, instances: instances.map((instance) => instance['00080018'].Value![0]) };
      }),
    );
  }

  it('stores the SEG in the source study, once however often the command runs', async () => {
    const first = rtLiver([series, '--store', '--json', '-q', '--out', join(work, 'first.dcm')], env);
    expect(first.stderr).not.toMatch(/unexpected failure/);
    expect(first.status).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.outputs.stored.study_instance_uid).toBe(ctSeries.studyInstanceUID);
    expect(await segSeries()).toEqual([{ series: expect.any(String), instances: [report.outputs.stored.sop_instance_uid] }]);
    // The same command again (no --out this time): the same instance, still one in the PACS.
    const second = rtLiver([series, '--store', '--json', '-q'], env);
    expect(second.status).toBe(0);
    expect(JSON.parse(second.stdout).outputs.stored.sop_instance_uid).toBe(report.outputs.stored.sop_instance_uid);
    expect(await segSeries()).toEqual([{ series: expect.any(String), instances: [report.outputs.stored.sop_instance_uid] }]);
  });

  it('wrong credentials: the server\'s message, exit 2, and the SEG file kept', async () => {
    const wrong = { ...env, RT_LIVER_PACS_PASSWORD: 'not-the-password' };
    const server = await checkPacs({ url: wrong.RT_LIVER_PACS_URL, username: wrong.RT_LIVER_PACS_USER, password: wrong.RT_LIVER_PACS_PASSWORD });
    expect(server.ok).toBe(false);
    const seg = join(work, 'kept-unauthorized.dcm');
    const run = rtLiver([series, '--store', '-q', '--out', seg], wrong);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`rt-liver: ${server.message}`);
    expect(run.stderr).toMatch(/Check RT_LIVER_PACS_USER and RT_LIVER_PACS_PASSWORD/);
    expect(run.stderr).toContain(`The SEG is kept in ${seg}`);
    expect(existsSync(seg)).toBe(true);
  });

  it('a PACS that is down: the server\'s message, exit 2, and the SEG file kept', async () => {
    const down = { ...env, RT_LIVER_PACS_URL: `http://127.0.0.1:${await closedPort()}` };
    const server = await checkPacs({ url: down.RT_LIVER_PACS_URL, username: down.RT_LIVER_PACS_USER, password: down.RT_LIVER_PACS_PASSWORD });
    expect(server.message).toMatch(/is not reachable \(ECONNREFUSED\)/);
    const seg = join(work, 'kept-down.dcm');
    const run = rtLiver([series, '--store', '-q', '--out', seg], down);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`rt-liver: ${server.message}`);
    expect(run.stderr).toContain(`The SEG is kept in ${seg}`);
    expect(existsSync(seg)).toBe(true);
  });

  it('--store without a configured PACS is refused before any work', () => {
    const run = rtLiver([series, '--store', '-q'], { RT_LIVER_PACS_URL: '' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--store sends the SEG to the PACS named by RT_LIVER_PACS_URL, which is not set\. Set RT_LIVER_PACS_URL/);
  });
});

describe('storeSeg retries what a retry can cure, with the same instance', () => {
  const segCase = makeSegCase({ name: 'store-retry', dimensions: [23, 38, 7], order: 'ascending' });
  const written = writeLiverSeg({ sourceInstances: segCase.files, mask: segCase.mask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE });
  if (written.status !== 'written') throw new Error('the test mask is empty');

  /** A stand-in PACS on 127.0.0.1 that answers each STOW with the next status of `statuses`. */
  async function flakyPacs(statuses: number[]) {
    const bodies: Uint8Array[] = [];
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const parts = multipartParts(new Uint8Array(Buffer.concat(chunks)), String(req.headers['content-type']));
        bodies.push(parts[0]);
        const status = statuses[Math.min(bodies.length - 1, statuses.length - 1)];
        res.writeHead(status, { 'content-type': 'application/dicom+json' });
        res.end(status === 200 ? JSON.stringify({ '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: [written.status === 'written' ? written.sopInstanceUID : ''] } }] } }) : '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    return { bodies, pacs: { url, dicomWebUrl: `${url}/dicom-web` }, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  it('a 503 and then a 200: stored, and both requests carried the same bytes', async () => {
    const flaky = await flakyPacs([503, 200]);
    try {
      const result = await storeSeg(written.bytes, written.studyInstanceUID, flaky.pacs, undefined, { backoffMs: () => 10 });
      expect(result.storedSopInstanceUIDs).toEqual([written.sopInstanceUID]);
      expect(flaky.bodies).toHaveLength(2);
      expect(Buffer.from(flaky.bodies[0]).equals(Buffer.from(flaky.bodies[1]))).toBe(true);
    } finally {
      await flaky.close();
    }
  });

  it('three 503s: the error says what is kept; a 401 is not retried', async () => {
    const down = await flakyPacs([503]);
    try {
      await expect(storeSeg(written.bytes, written.studyInstanceUID, down.pacs, '/some/seg.dcm', { backoffMs: () => 10 })).rejects.toMatchObject({
        message: expect.stringMatching(/Storing the SEG failed: The PACS answered HTTP 503/),
        hint: expect.stringMatching(/The SEG is kept in \/some\/seg\.dcm/),
      });
      expect(down.bodies).toHaveLength(3);
    } finally {
      await down.close();
    }
    const refusing = await flakyPacs([401]);
    try {
      await expect(storeSeg(written.bytes, written.studyInstanceUID, refusing.pacs, undefined, { backoffMs: () => 10 })).rejects.toThrow(/rejected the credentials \(HTTP 401\)/);
      expect(refusing.bodies).toHaveLength(1);
    } finally {
      await refusing.close();
    }
  });
});
