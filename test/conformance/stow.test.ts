/**
 * STOW-RS of our SEG to a real Orthanc (started here, with Basic auth): stored in the source study,
 * listed by QIDO as Modality SEG, returned byte-identical by WADO-RS, stored once however often it is
 * retried. Failures (wrong password, server down, 413, timeout, failed instances in a 200/409
 * answer) go through a small HTTP server on 127.0.0.1 standing in for a proxy in front of the PACS,
 * or to a closed port; each must name its cause and leave the SEG bytes intact.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StowError, stowInstances, writeLiverSeg } from '../../extension/src/core/seg';
import { startOrthanc, uploadDicom, type OrthancHandle } from '../support/orthanc';
import { multipartParts } from './support/multipart';
import { TEST_ALGORITHM, TEST_DEVICE, makeSegCase } from './support/seg-cases';

jest.setTimeout(120_000);

const segCase = makeSegCase({ name: 'stow', dimensions: [23, 38, 7], order: 'shuffled' });
const written = writeLiverSeg({ sourceInstances: segCase.files, mask: segCase.mask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE });
if (written.status !== 'written') throw new Error('the test mask is empty');
const seg = written;
const segCopy = Buffer.from(seg.bytes.slice(0));

async function stowError(promise: Promise<unknown>): Promise<StowError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof StowError)) throw new Error(`expected a StowError, got ${String(error)}`);
  return error;
}

function expectSegUntouched(): void {
  expect(Buffer.from(seg.bytes).equals(segCopy)).toBe(true);
}

describe('STOW-RS to a real Orthanc', () => {
  let orthanc: OrthancHandle;

  beforeAll(async () => {
    orthanc = await startOrthanc();
    for (const file of segCase.files) await uploadDicom(orthanc, file);
  });
  afterAll(async () => {
    await orthanc?.stop();
  });

  const get = (path: string, accept: string) =>
    fetch(`${orthanc.dicomWebUrl}${path}`, { headers: { authorization: orthanc.authorization, accept } });

  it('stores the SEG in the source study; QIDO lists it as Modality SEG', async () => {
    const result = await stowInstances([seg.bytes], { dicomWebUrl: orthanc.dicomWebUrl, authorization: orthanc.authorization });
    expect(result.storedSopInstanceUIDs).toEqual([seg.sopInstanceUID]);
    const response = await get(`/studies/${seg.studyInstanceUID}/series?Modality=SEG`, 'application/dicom+json');
    expect(response.status).toBe(200);
    const series = (await response.json()) as Array<Record<string, { Value?: unknown[] }>>;
    expect(series.map((item) => item['0020000E']?.Value?.[0])).toEqual([seg.seriesInstanceUID]);
    expect(series[0]['00080060']?.Value?.[0]).toBe('SEG');
    expect(segCase.studyInstanceUID).toBe(seg.studyInstanceUID);
  });

  it('WADO-RS returns it byte-identical', async () => {
    const response = await get(
      `/studies/${seg.studyInstanceUID}/series/${seg.seriesInstanceUID}/instances/${seg.sopInstanceUID}`,
      'multipart/related; type="application/dicom"; transfer-syntax=*',
    );
    expect(response.status).toBe(200);
    const parts = multipartParts(new Uint8Array(await response.arrayBuffer()), response.headers.get('content-type') ?? '');
    expect(parts).toHaveLength(1);
    expect(Buffer.from(parts[0]).equals(Buffer.from(seg.bytes))).toBe(true);
  });

  it('a retry of the same SEG (to the study URL) stores no second copy', async () => {
    await stowInstances([seg.bytes], { dicomWebUrl: orthanc.dicomWebUrl, authorization: orthanc.authorization, studyInstanceUID: seg.studyInstanceUID });
    await stowInstances([seg.bytes], { dicomWebUrl: orthanc.dicomWebUrl, authorization: orthanc.authorization });
    const response = await get(`/studies/${seg.studyInstanceUID}/series/${seg.seriesInstanceUID}/instances`, 'application/dicom+json');
    const instances = (await response.json()) as unknown[];
    expect(instances).toHaveLength(1);
    expectSegUntouched();
  });

  it('wrong password: "unauthorized", not retryable', async () => {
    const wrong = `Basic ${Buffer.from(`${orthanc.username}:not-the-password`).toString('base64')}`;
    const error = await stowError(stowInstances([seg.bytes], { dicomWebUrl: orthanc.dicomWebUrl, authorization: wrong }));
    expect(error.code).toBe('STOW_UNAUTHORIZED');
    expect(error.httpStatus).toBe(401);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/refused the credentials/);
    expect(error.sopInstanceUIDs).toEqual([seg.sopInstanceUID]);
    expectSegUntouched();
  });
});

describe('STOW-RS failures', () => {
  it('server down (closed port): "unreachable", retryable', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await stowError(stowInstances([seg.bytes], { dicomWebUrl: `http://127.0.0.1:${port}/dicom-web` }));
    expect(error.code).toBe('STOW_UNREACHABLE');
    expect(error.message).toMatch(/connection refused/);
    expect(error.retryable).toBe(true);
    expect(error.hint).toMatch(/SEG is kept/);
    expectSegUntouched();
  });

  describe('through a stand-in proxy on 127.0.0.1', () => {
    let server: Server;
    let url: string;
    let behaviour: 'too-large' | 'hang' | 'failed-200' | 'failed-409' = 'too-large';
    const received: Buffer[] = [];

    beforeAll(async () => {
      server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          received.push(Buffer.concat(chunks));
          const failed = {
            '00081198': {
              vr: 'SQ',
              Value: [
                {
                  '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.66.4'] },
                  '00081155': { vr: 'UI', Value: [seg.sopInstanceUID] },
                  '00081197': { vr: 'US', Value: [0xa700] },
                },
              ],
            },
          };
          if (behaviour === 'too-large') {
            response.writeHead(413, { 'content-type': 'text/html' }).end('<html>413 Request Entity Too Large</html>');
          } else if (behaviour === 'failed-200') {
            response.writeHead(200, { 'content-type': 'application/dicom+json' }).end(JSON.stringify(failed));
          } else if (behaviour === 'failed-409') {
            response.writeHead(409, { 'content-type': 'application/dicom+json' }).end(JSON.stringify(failed));
          }
          // 'hang': never answers.
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('413: "too-large", names the proxy limit', async () => {
      behaviour = 'too-large';
      const error = await stowError(stowInstances([seg.bytes], { dicomWebUrl: url }));
      expect(error.code).toBe('STOW_TOO_LARGE');
      expect(error.httpStatus).toBe(413);
      expect(error.hint).toMatch(/client_max_body_size/);
      expectSegUntouched();
    });

    it('no answer: "timeout" after the given time, retryable', async () => {
      behaviour = 'hang';
      const started = Date.now();
      const error = await stowError(stowInstances([seg.bytes], { dicomWebUrl: url, timeoutMs: 500 }));
      expect(error.code).toBe('STOW_TIMEOUT');
      expect(error.retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(5000);
      expectSegUntouched();
    });

    it.each(['failed-200', 'failed-409'] as const)('%s with FailedSOPSequence: "rejected" with the reason', async (mode) => {
      behaviour = mode;
      const error = await stowError(stowInstances([seg.bytes], { dicomWebUrl: url }));
      expect(error.code).toBe('STOW_REJECTED');
      expect(error.message).toContain(seg.sopInstanceUID);
      expect(error.message).toMatch(/out of resources \(0xA700\)/);
      expectSegUntouched();
    });

    it('sent a well-formed multipart/related body holding the SEG bytes', () => {
      const last = received[received.length - 1];
      expect(last.indexOf(Buffer.from(seg.bytes))).toBeGreaterThan(0);
      expect(last.toString('latin1', 0, 100)).toMatch(/^--rt-liver-[0-9a-f]+\r\nContent-Type: application\/dicom\r\n\r\n/);
    });
  });
});
