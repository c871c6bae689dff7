/**
 * The segmentation worker's side: loads a model (fetch, sha256, onnxruntime-web session) once, then
 * segments volumes on request, reporting each stage. Written against a minimal message-port shape so
 * it needs no DOM types; `segmentation-worker.ts` is the entry a bundler turns into the worker script.
 */
import { RtLiverError } from '../errors';
import { ortWebSessionFactory } from './ort-web';
import { prepareModel, segmentLiver, type PreparedModel } from './pipeline';
import { errorResponse, type LoadModelRequest, type WorkerRequest, type WorkerResponse } from './worker-protocol';

export interface MessageScope {
  postMessage(message: WorkerResponse, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: { data: WorkerRequest }) => void): void;
}

async function fetchModel(request: LoadModelRequest): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(request.modelUrl);
  } catch (error) {
    throw new RtLiverError('MODEL_FETCH_FAILED', `Could not download model ${request.model.name} from ${request.modelUrl}: ${(error as Error).message}.`, 'Check that the viewer serves models/ and that the network is up.');
  }
  if (!response.ok) {
    throw new RtLiverError('MODEL_FETCH_FAILED', `Could not download model ${request.model.name}: ${request.modelUrl} answered ${response.status}.`, 'Check that the viewer serves models/ at that address.');
  }
  return new Uint8Array(await response.arrayBuffer());
}

export function serveSegmentation(scope: MessageScope): void {
  let model: PreparedModel | undefined;
  // One request at a time, in order: a segmentation never races a model (re)load.
  let queue: Promise<void> = Promise.resolve();

  async function handle(request: WorkerRequest): Promise<void> {
    switch (request.type) {
      case 'load': {
        const start = performance.now();
        const bytes = await fetchModel(request);
        const fetchMs = performance.now() - start;
        // The old model stays usable until the new one has passed its checks and opened.
        const next = await prepareModel(request.model, bytes, request.backend, ortWebSessionFactory(request.ort));
        await model?.session.dispose();
        model = next;
        scope.postMessage({
          type: 'loaded',
          id: request.id,
          backend: model.session.backend,
          warnings: [...model.session.warnings],
          timings_ms: { fetch_model: fetchMs, ...model.timings_ms },
        });
        return;
      }
      case 'segment': {
        if (!model) throw new RtLiverError('MODEL_NOT_LOADED', 'The segmentation worker has no model yet.', 'Load a model before segmenting.');
        const result = await segmentLiver(request.volume, model, {
          onStage: (stage) => scope.postMessage({ type: 'progress', id: request.id, stage }),
        });
        scope.postMessage({ type: 'segmented', id: request.id, result }, [result.mask.voxels.buffer as ArrayBuffer]);
        return;
      }
      case 'dispose': {
        await model?.session.dispose();
        model = undefined;
        scope.postMessage({ type: 'disposed', id: request.id });
        return;
      }
    }
  }

  scope.addEventListener('message', (event) => {
    const request = event.data;
    queue = queue.then(() => handle(request)).catch((error) => scope.postMessage(errorResponse(request.id, error)));
  });
}
