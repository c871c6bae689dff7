import { RtLiverError } from '../errors';
import type { ModelEntry } from './manifest';
import { SegmentationWorkerClient, type WorkerLike } from './worker-client';
import type { WorkerRequest, WorkerResponse } from './worker-protocol';

/** A worker double that records requests and lets the test fire its events. */
class FakeWorker implements WorkerLike {
  readonly sent: WorkerRequest[] = [];
  terminated = 0;
  private readonly listeners = new Map<string, ((event: never) => void)[]>();
  postMessage(message: WorkerRequest): void {
    this.sent.push(message);
  }
  addEventListener(type: string, listener: (event: never) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  emit(type: 'message' | 'error' | 'messageerror', event: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event as never);
  }
  reply(response: WorkerResponse): void {
    this.emit('message', { data: response });
  }
  terminate(): void {
    this.terminated++;
  }
}

const model = { name: 'm', file: 'm.onnx' } as ModelEntry;
const ort = { wasmPaths: '/ort/' };

test('a worker error rejects every pending request with an error the panel can show, and later requests too', async () => {
  const worker = new FakeWorker();
  const client = new SegmentationWorkerClient(worker);
  const loading = client.load(model, '/models/m.onnx', 'wasm', ort);
  worker.emit('error', { message: 'Uncaught RangeError: Array buffer allocation failed' });
  await expect(loading).rejects.toMatchObject({ code: 'WORKER_CRASHED', message: expect.stringContaining('Array buffer allocation failed') });
  expect(worker.terminated).toBe(1);
  expect(client.stopped).toBe(true);
  await expect(client.load(model, '/models/m.onnx', 'wasm', ort)).rejects.toBeInstanceOf(RtLiverError);
});

test('a message that cannot be read rejects the pending request', async () => {
  const worker = new FakeWorker();
  const client = new SegmentationWorkerClient(worker);
  const loading = client.load(model, '/models/m.onnx', 'wasm', ort);
  worker.emit('messageerror', {});
  await expect(loading).rejects.toMatchObject({ code: 'WORKER_MESSAGE_FAILED' });
});

test('terminate cancels a running request and ends the worker', async () => {
  const worker = new FakeWorker();
  const client = new SegmentationWorkerClient(worker);
  const loading = client.load(model, '/models/m.onnx', 'wasm', ort);
  client.terminate();
  await expect(loading).rejects.toMatchObject({ code: 'CANCELLED' });
  expect(worker.terminated).toBe(1);
});

test('replies still resolve, progress goes to the callback, and worker errors keep their code and hint', async () => {
  const worker = new FakeWorker();
  const client = new SegmentationWorkerClient(worker);
  const loading = client.load(model, '/models/m.onnx', 'wasm', ort);
  worker.reply({ type: 'loaded', id: worker.sent[0].id, backend: 'onnxruntime-web/wasm', warnings: [], timings_ms: { fetch_model: 1, verify_sha256: 1, create_session: 1 } });
  await expect(loading).resolves.toMatchObject({ backend: 'onnxruntime-web/wasm' });
  const again = client.load(model, '/models/m.onnx', 'wasm', ort);
  worker.reply({ type: 'error', id: worker.sent[1].id, code: 'MODEL_FETCH_FAILED', message: 'Could not download. Check the server.', hint: 'Check the server.' });
  await expect(again).rejects.toMatchObject({ code: 'MODEL_FETCH_FAILED', hint: 'Check the server.' });
  expect(client.stopped).toBe(false);
});
