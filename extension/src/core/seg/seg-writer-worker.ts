/**
 * Entry of the SEG-writing Web Worker (see write-seg-worker.ts). Bundle it as its own script, e.g.
 *   new Worker(new URL('./core/seg/seg-writer-worker.ts', import.meta.url), { type: 'module' })
 */
import { serveSegWriting, type SegWriterScope } from './write-seg-worker';

serveSegWriting(globalThis as unknown as SegWriterScope);
