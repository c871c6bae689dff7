/**
 * The SEG writer through its worker protocol, over a real MessageChannel (structured clone and
 * transfer as in a browser): the same bytes as the writer called directly, errors with their code,
 * and a worker that dies or cannot be sent the request ends in an RtLiverError, never a wait.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { isRtLiverError } from '../errors';
import { TEST_ALGORITHM, TEST_DEVICE, makeSegCase } from '../../../../test/conformance/support/seg-cases';
import { writeLiverSeg, type WriteLiverSegOptions } from './write-seg';
import { serveSegWriting, writeLiverSegInWorker, type SegWriterScope, type SegWriterWorker } from './write-seg-worker';

/** A "worker" whose other end runs serveSegWriting; `terminated` records that the client ended it. */
function channelWorker(): SegWriterWorker & { terminated: boolean; crash: (message: string) => void } {
  const { port1, port2 } = new MessageChannel();
  serveSegWriting({
    postMessage: (message, transfer) => port2.postMessage(message, transfer as never),
    addEventListener: (_type, listener) => port2.on('message', (data) => listener({ data })),
  } as SegWriterScope);
  const errorListeners: ((event: { message?: string }) => void)[] = [];
  const worker = {
    terminated: false,
    postMessage: (message: unknown, transfer?: Transferable[]) => port1.postMessage(message, transfer as never),
    addEventListener: (type: string, listener: (event: never) => void) => {
      if (type === 'message') port1.on('message', (data) => (listener as (e: { data: unknown }) => void)({ data }));
      if (type === 'error') errorListeners.push(listener as (e: { message?: string }) => void);
    },
    terminate: () => {
      worker.terminated = true;
      (port1 as MessagePort).close();
    },
    crash: (message: string) => errorListeners.forEach((listener) => listener({ message })),
  };
  return worker as unknown as SegWriterWorker & { terminated: boolean; crash: (message: string) => void };
}

function options(): WriteLiverSegOptions {
  const segCase = makeSegCase({ name: 'worker', dimensions: [24, 20, 6] });
  return {
    sourceInstances: segCase.files,
    mask: segCase.mask,
    algorithm: TEST_ALGORITHM,
    device: TEST_DEVICE,
    uids: { sopInstanceUID: '2.25.1', seriesInstanceUID: '2.25.2' },
    createdAt: new Date('2026-01-02T03:04:05Z'),
  };
}

describe('writeLiverSegInWorker', () => {
  it('gives the same SEG bytes as the writer called directly, and ends the worker', async () => {
    const direct = writeLiverSeg(options());
    const worker = channelWorker();
    const input = options();
    const viaWorker = await writeLiverSegInWorker(input, () => worker, { transferMask: true });
    expect(direct.status).toBe('written');
    expect(viaWorker.status).toBe('written');
    if (direct.status !== 'written' || viaWorker.status !== 'written') return;
    expect(Buffer.from(viaWorker.bytes).equals(Buffer.from(direct.bytes))).toBe(true);
    expect(viaWorker.sopInstanceUID).toBe('2.25.1');
    expect(input.mask.voxels.length).toBe(0); // handed over, not copied
    expect(worker.terminated).toBe(true);
  });

  it('an empty mask comes back as "empty", not as an error', async () => {
    const input = options();
    input.mask.voxels.fill(0);
    const result = await writeLiverSegInWorker(input, channelWorker);
    expect(result.status).toBe('empty');
  });

  it("the writer's refusal comes back with its code and hint", async () => {
    const input = options();
    input.sourceInstances = [];
    const error = await writeLiverSegInWorker(input, channelWorker).catch((e: unknown) => e);
    expect(isRtLiverError(error)).toBe(true);
    const direct = (() => {
      try {
        writeLiverSeg({ ...options(), sourceInstances: [] });
      } catch (e) {
        return e as { code: string };
      }
    })();
    expect((error as { code: string }).code).toBe(direct?.code);
    expect((error as { message: string }).message).toMatch(/\S/);
  });

  it('a worker that crashes gives SEG_WORKER_CRASHED with the reason', async () => {
    const worker = channelWorker();
    worker.postMessage = () => worker.crash('out of memory'); // dies on the request
    const error = await writeLiverSegInWorker(options(), () => worker).catch((e: unknown) => e);
    expect((error as { code: string }).code).toBe('SEG_WORKER_CRASHED');
    expect((error as Error).message).toMatch(/out of memory/);
    expect(worker.terminated).toBe(true);
  });

  it('metadata that cannot be copied to a worker gives SEG_WORKER_MESSAGE_FAILED', async () => {
    const input = options();
    input.sourceInstances = [{ SOPInstanceUID: '1', Broken: () => 1 } as never];
    const error = await writeLiverSegInWorker(input, channelWorker).catch((e: unknown) => e);
    expect((error as { code: string }).code).toBe('SEG_WORKER_MESSAGE_FAILED');
  });
});
