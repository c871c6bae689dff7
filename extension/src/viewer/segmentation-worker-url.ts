/**
 * Starts the viewer's Web Workers. webpack sees `new Worker(new URL(..., import.meta.url))` and
 * builds each entry as a worker chunk of the extension plugin (dist/plugins/chunks/), served with
 * the plugins: core/model/segmentation-worker.ts with onnxruntime-web, core/seg/seg-writer-worker.ts
 * with the SEG writer and dcmjs (neither is loaded until it is needed).
 */
import { SegmentationWorkerClient } from '../core/model/worker-client';
import type { SegWriterWorker } from '../core/seg/write-seg-worker';

export function startSegmentationWorker(): SegmentationWorkerClient {
  const worker = new Worker(new URL('../core/model/segmentation-worker.ts', import.meta.url), { type: 'module', name: 'rt-liver-segmentation' });
  return new SegmentationWorkerClient(worker);
}

export function startSegWriterWorker(): SegWriterWorker {
  return new Worker(new URL('../core/seg/seg-writer-worker.ts', import.meta.url), { type: 'module', name: 'rt-liver-seg-writer' }) as SegWriterWorker;
}
