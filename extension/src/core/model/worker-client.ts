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

export interface WorkerLike {
  postMessage(message: WorkerRequest, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: { data: WorkerResponse }) => void): void;
  terminate(): void;
}

type Pending = { resolve: (response: WorkerResponse) => void; reject: (error: Error) => void; onStage?: (stage: Stage) => void };

export class SegmentationWorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly worker: WorkerLike) {
    worker.addEventListener('message', (event) => this.receive(event.data));
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
      // RtLiverError's message already ends with its hint: split it off so it is not repeated.
      const message = response.hint && response.message.endsWith(` ${response.hint}`) ? response.message.slice(0, -response.hint.length - 1) : response.message;
      pending.reject(new RtLiverError(response.code, message, response.hint));
    }
  }

  private request(message: WorkerRequest, transfer: Transferable[] = [], onStage?: (stage: Stage) => void): Promise<WorkerResponse> {
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject, onStage });
      this.worker.postMessage(message, transfer);
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
    await this.request({ type: 'dispose', id: this.nextId++ });
    this.worker.terminate();
  }
}
