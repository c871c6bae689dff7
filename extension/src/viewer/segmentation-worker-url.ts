/**
 * Starts the segmentation Web Worker. webpack sees `new Worker(new URL(..., import.meta.url))` and
 * builds core/model/segmentation-worker.ts, with onnxruntime-web, as a worker chunk of the extension
 * plugin (dist/plugins/chunks/), served with the plugins.
 */
import { SegmentationWorkerClient } from '../core/model/worker-client';

export function startSegmentationWorker(): SegmentationWorkerClient {
  const worker = new Worker(new URL('../core/model/segmentation-worker.ts', import.meta.url), { type: 'module', name: 'rt-liver-segmentation' });
  return new SegmentationWorkerClient(worker);
}
