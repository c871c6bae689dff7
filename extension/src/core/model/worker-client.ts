/**
 * The viewer's handle on the segmentation worker: promises instead of messages, progress callbacks,
 * errors re-thrown as RtLiverError with their code and hint.
 */
import { RtLiverError } from '../errors';
import type { Volume } from '../volume';
import type { BackendChoice } from './inference';
import type { ModelEntry } from './manifest';
import type { OrtWebOptions } from './ort-web';
import type { SegmentationResult, Stage } from './pipeline';
import type { LoadedResponse, WorkerRequest, WorkerResponse } from './worker-protocol';

/** A Web Worker as its clients use it: the segmentation worker by default, the SEG writer's too (seg/write-seg-worker.ts). */
export interface WorkerLike<Request = WorkerRequest, Response = WorkerResponse> {
  postMessage(message: Request, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: { data: Response }) => void): void;
  /** A script error the worker did not catch (its script failed to load, a crash, out of memory). */
  addEventListener(type: 'error', listener: (event: { message?: string }) => void): void;
  /** A reply that could not be deserialized. */
  addEventListener(type: 'messageerror', listener: (event: unknown) => void): void;
  terminate(): void;
}

type Pending = { resolve: (response: WorkerResponse) => void; reject: (error: Error) => void; onStage?: (stage: Stage) => void };

export class SegmentationWorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Set once the worker has failed or been terminated: every later request fails at once with it. */
  private failure?: RtLiverError;

  constructor(private readonly worker: WorkerLike) {
    worker.addEventListener('message', (event) => this.receive(event.data));
    // Without these a crashed worker would leave every pending promise waiting for ever.
    worker.addEventListener('error', (event) =>
      this.fail(
        new RtLiverError(
          'WORKER_CRASHED',
          `The segmentation worker stopped with an error${event?.message ? ` (${event.message})` : ''}.`,
          'Try again; if it keeps failing, reload the page (the browser may be out of memory).',
        ),
      ),
    );
    worker.addEventListener('messageerror', () =>
      this.fail(new RtLiverError('WORKER_MESSAGE_FAILED', 'A reply from the segmentation worker could not be read.', 'Try again, or reload the page.')),
    );
  }

  /** Rejects every pending request with `error`, ends the worker, and refuses new requests. */
  private fail(error: RtLiverError): void {
    if (!this.failure) this.failure = error;
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.worker.terminate();
    for (const request of pending) request.reject(error);
  }

  /** Stops the worker now (e.g. the user cancelled): pending requests reject with code CANCELLED. */
  terminate(reason = 'The segmentation was cancelled.'): void {
    this.fail(new RtLiverError('CANCELLED', reason));
  }

  /** True once the worker has crashed or was terminated; make a new client to go on. */
  get stopped(): boolean {
    return this.failure !== undefined;
  }

  private receive(response: WorkerResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    if (response.type === 'progress') {
      pending.onStage?.(response.stage);
      return;
    }
    this.pending.delete(response.id);
    if (response.type !== 'error') pending.resolve(response);
    else {
      pending.reject(new RtLiverError(response.code, response.message, response.hint));
    }
  }

  private request(message: WorkerRequest, transfer: Transferable[] = [], onStage?: (stage: Stage) => void): Promise<WorkerResponse> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.pending.set(message.id, { resolve, reject, onStage });
      try {
        this.worker.postMessage(message, transfer);
      } catch (error) {
        // e.g. DataCloneError; the worker itself is fine.
        this.pending.delete(message.id);
        reject(new RtLiverError('WORKER_MESSAGE_FAILED', `Could not send the request to the segmentation worker: ${(error as Error).message}.`, 'Try again, or reload the page.'));
      }
    });
  }

  /** Downloads, verifies and opens the model in the worker. */
  async load(model: ModelEntry, modelUrl: string, backend: BackendChoice, ort: Pick<OrtWebOptions, 'wasmPaths' | 'numThreads'>): Promise<LoadedResponse> {
    return (await this.request({ type: 'load', id: this.nextId++, model, modelUrl, backend, ort })) as LoadedResponse;
  }

  /**
   * Segments `volume`. Its voxels are copied to the worker unless `transfer` is set, which hands the
   * buffer over (the caller's array becomes empty) and saves a copy of the CT.
   */
  async segment(volume: Volume, options: { onStage?: (stage: Stage) => void; transfer?: boolean } = {}): Promise<SegmentationResult> {
    const transfer = options.transfer ? [volume.voxels.buffer as ArrayBuffer] : [];
    const response = await this.request({ type: 'segment', id: this.nextId++, volume }, transfer, options.onStage);
    return (response as Extract<WorkerResponse, { type: 'segmented' }>).result;
  }

  async dispose(): Promise<void> {
    if (this.failure) return;
    await this.request({ type: 'dispose', id: this.nextId++ });
    this.worker.terminate();
    this.failure = new RtLiverError('WORKER_DISPOSED', 'The segmentation worker was closed.');
  }
}
