/**
 * Entry of the segmentation Web Worker. Bundle it as its own script, e.g. with webpack:
 *   new Worker(new URL('./core/model/segmentation-worker.ts', import.meta.url), { type: 'module' })
 * and talk to it through SegmentationWorkerClient (worker-client.ts).
 */
import { serveSegmentation, type MessageScope } from './worker';

serveSegmentation(globalThis as unknown as MessageScope);
