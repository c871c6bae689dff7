/**
 * The SEG writer off the page's thread: writing a SEG takes about half a second for a 51-slice
 * 512x512 CT (the CLI's `write_seg` on crlm-ct-1006), which on the main thread would freeze the
 * viewer when "Download SEG" or "Store to PACS" is clicked. One worker per SEG: it starts, writes,
 * answers and ends, so nothing of it stays in memory and a crash only costs that one SEG.
 *
 * `serveSegWriting` is the worker's side (`seg-writer-worker.ts` is the entry a bundler builds),
 * `writeLiverSegInWorker` the page's; both only need a minimal message-port shape.
 */
import { RtLiverError } from '../errors';
import type { WorkerLike } from '../model/worker-client';
import { errorResponse, type ErrorResponse } from '../model/worker-protocol';
import { writeLiverSeg, type WriteLiverSegOptions, type WriteLiverSegResult } from './write-seg';

export interface WriteSegRequest {
  type: 'write-seg';
  options: WriteLiverSegOptions;
}

export type WriteSegResponse = { type: 'written'; result: WriteLiverSegResult } | ErrorResponse;

export interface SegWriterScope {
  postMessage(message: WriteSegResponse, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: { data: WriteSegRequest }) => void): void;
}

/** The worker's side: each request is written with the core's writer; the bytes are handed back, not copied. */
export function serveSegWriting(scope: SegWriterScope): void {
  scope.addEventListener('message', (event) => {
    try {
      const result = writeLiverSeg(event.data.options);
      scope.postMessage({ type: 'written', result }, result.status === 'written' ? [result.bytes] : []);
    } catch (error) {
      scope.postMessage(errorResponse(0, error));
    }
  });
}

export type SegWriterWorker = WorkerLike<WriteSegRequest, WriteSegResponse>;

/**
 * Writes the SEG in a worker made by `startWorker`, which is ended once it has answered. The mask's
 * buffer is handed over when `transferMask` is set (the caller's array becomes empty). Errors come
 * back as RtLiverError with the writer's code and hint; a worker that dies gives SEG_WORKER_CRASHED.
 */
export function writeLiverSegInWorker(
  options: WriteLiverSegOptions,
  startWorker: () => SegWriterWorker,
  { transferMask = false }: { transferMask?: boolean } = {},
): Promise<WriteLiverSegResult> {
  return new Promise((resolve, reject) => {
    const worker = startWorker();
    const finish = (settle: () => void) => {
      worker.terminate();
      settle();
    };
    worker.addEventListener('message', ({ data }) =>
      finish(() => (data.type === 'written' ? resolve(data.result) : reject(new RtLiverError(data.code, data.message, data.hint)))),
    );
    worker.addEventListener('error', (event) =>
      finish(() =>
        reject(
          new RtLiverError(
            'SEG_WORKER_CRASHED',
            `The SEG writer stopped with an error${event?.message ? ` (${event.message})` : ''}.`,
            'Try again; if it keeps failing, reload the page (the browser may be out of memory). The labelmap is kept.',
          ),
        ),
      ),
    );
    worker.addEventListener('messageerror', () =>
      finish(() => reject(new RtLiverError('SEG_WORKER_CRASHED', 'The SEG writer’s answer could not be read.', 'Try again, or reload the page. The labelmap is kept.'))),
    );
    try {
      worker.postMessage({ type: 'write-seg', options }, transferMask ? [options.mask.voxels.buffer as ArrayBuffer] : []);
    } catch (error) {
      // e.g. DataCloneError: something in the instances' metadata cannot be copied to a worker.
      finish(() =>
        reject(
          new RtLiverError(
            'SEG_WORKER_MESSAGE_FAILED',
            `Could not send the CT's metadata to the SEG writer: ${(error as Error).message}.`,
            'Reload the study and try again; if it persists, report which data source it came from.',
          ),
        ),
      );
    }
  });
}
