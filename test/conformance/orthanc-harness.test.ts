/**
 * The Orthanc test harness against the real Debian Orthanc: start, upload, QIDO-RS, auth, stop.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { makeAbdomenPhantom } from '../../synthetic/phantom';
import { writeCtSeries } from '../../synthetic/ct-series-writer';
import { type OrthancHandle, findOrthancBinary, startOrthanc, uploadDicom, uploadFolder } from '../support/orthanc';

jest.setTimeout(60000);

describe('startOrthanc', () => {
  let orthanc: OrthancHandle;

  beforeAll(async () => {
    orthanc = await startOrthanc({ username: 'alice', password: 's3cret' });
  });

  afterAll(async () => {
    await orthanc?.stop();
  });

  it('listens on loopback with Basic auth and the DICOMweb plugin', async () => {
    expect(orthanc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(orthanc.dicomWebUrl).toBe(`${orthanc.url}/dicom-web`);
    expect(orthanc.authorization).toBe(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
    const system = await fetch(`${orthanc.url}/system`, { headers: { authorization: orthanc.authorization } });
    expect(system.status).toBe(200);
    const plugins = (await (await fetch(`${orthanc.url}/plugins`, { headers: { authorization: orthanc.authorization } })).json()) as string[];
    expect(plugins).toContain('dicom-web');
  });

  it('refuses requests without or with wrong credentials (401)', async () => {
    expect((await fetch(`${orthanc.url}/system`)).status).toBe(401);
    expect((await fetch(`${orthanc.dicomWebUrl}/studies`)).status).toBe(401);
    const wrong = `Basic ${Buffer.from('alice:wrong').toString('base64')}`;
    expect((await fetch(`${orthanc.dicomWebUrl}/studies`, { headers: { authorization: wrong } })).status).toBe(401);
  });

  it('stores an uploaded synthetic CT instance that QIDO-RS then lists', async () => {
    const phantom = makeAbdomenPhantom({ seed: 'orthanc-harness', dimensions: [32, 32, 4], spacing: [11, 11, 60] });
    const series = writeCtSeries(phantom.ct, { seed: 'orthanc-harness', patientID: 'HARNESS-1' });
    const upload = await uploadDicom(orthanc, series.files[0].bytes);
    expect(upload.Status).toBe('Success');

    const studies = await fetch(`${orthanc.dicomWebUrl}/studies?PatientID=HARNESS-1`, {
      headers: { authorization: orthanc.authorization, accept: 'application/dicom+json' },
    });
    expect(studies.status).toBe(200);
    const found = (await studies.json()) as Record<string, { Value?: unknown[] }>[];
    expect(found).toHaveLength(1);
    expect(found[0]['0020000D'].Value).toEqual([series.studyInstanceUID]);

    const instances = await fetch(`${orthanc.dicomWebUrl}/studies/${series.studyInstanceUID}/series/${series.seriesInstanceUID}/instances`, {
      headers: { authorization: orthanc.authorization, accept: 'application/dicom+json' },
    });
    const listed = (await instances.json()) as Record<string, { Value?: unknown[] }>[];
    expect(listed.map((instance) => instance['00080018'].Value?.[0])).toEqual([series.files[0].sopInstanceUID]);
  });

  it('uploads a folder tree of DICOM files and skips the rest', async () => {
    const phantom = makeAbdomenPhantom({ seed: 'orthanc-folder', dimensions: [16, 16, 3], spacing: [22, 22, 80] });
    const series = writeCtSeries(phantom.ct, { seed: 'orthanc-folder', patientID: 'HARNESS-2' });
    const folder = mkdtempSync(join(tmpdir(), 'rt-liver-upload-'));
    try {
      mkdirSync(join(folder, 'nested'));
      series.files.forEach((file, n) => writeFileSync(join(folder, n === 0 ? 'nested' : '', file.name), new Uint8Array(file.bytes)));
      writeFileSync(join(folder, 'README.txt'), 'not DICOM');
      const result = await uploadFolder(orthanc, folder);
      expect(result.uploaded).toBe(3);
      expect(result.skipped).toEqual([join(folder, 'README.txt')]);
      expect(result.studies.size).toBe(1);
      const response = await fetch(`${orthanc.dicomWebUrl}/studies/${series.studyInstanceUID}/instances`, {
        headers: { authorization: orthanc.authorization, accept: 'application/dicom+json' },
      });
      expect(((await response.json()) as unknown[]).length).toBe(3);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('says which port is taken when asked for a busy one', async () => {
    const port = Number(new URL(orthanc.url).port);
    await expect(startOrthanc({ port })).rejects.toThrow(new RegExp(`Port ${port} is already in use.*ORTHANC_PORT`));
  });
});

describe('stop()', () => {
  it('kills Orthanc, frees the port and removes its storage', async () => {
    const orthanc = await startOrthanc();
    const port = Number(new URL(orthanc.url).port);
    expect(existsSync(orthanc.storageDir)).toBe(true);
    await orthanc.stop();
    await expect(orthanc.exited).resolves.toBeDefined();
    expect(existsSync(orthanc.storageDir)).toBe(false);
    await expect(fetch(`${orthanc.url}/system`)).rejects.toThrow();
    // The port can be bound again.
    await new Promise<void>((resolve, reject) => {
      const server = createServer().once('error', reject).listen(port, () => server.close(() => resolve()));
    });
  });
});

describe('findOrthancBinary', () => {
  it('names the setup script when ORTHANC_BINARY points nowhere', () => {
    const saved = process.env.ORTHANC_BINARY;
    process.env.ORTHANC_BINARY = '/nonexistent/Orthanc';
    try {
      expect(() => findOrthancBinary()).toThrow(/does not exist.*scripts\/setup\.sh/);
    } finally {
      if (saved === undefined) delete process.env.ORTHANC_BINARY;
      else process.env.ORTHANC_BINARY = saved;
    }
  });
});
