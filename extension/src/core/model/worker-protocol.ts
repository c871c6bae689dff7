/**
 * Messages between the viewer (main thread) and the segmentation worker. Typed once here so both
 * sides agree; voxel buffers travel as transferables, never as copies through JSON.
 */
import type { RtLiverError } from '../errors';
import type { Volume } from '../volume';
import type { BackendChoice } from './inference';
import type { ModelEntry } from './manifest';
import type { OrtWebOptions } from './ort-web';
import type { SegmentationResult, Stage } from './pipeline';

export interface LoadModelRequest {
  type: 'load';
  id: number;
  model: ModelEntry;
  /** Where the worker fetches the ONNX file (absolute URL: a worker resolves relative URLs against its own script). */
  modelUrl: string;
  backend: BackendChoice;
  ort: Pick<OrtWebOptions, 'wasmPaths' | 'numThreads'>;
}

export interface SegmentRequest {
  type: 'segment';
  id: number;
  volume: Volume;
}

export interface DisposeRequest {
  type: 'dispose';
  id: number;
}

export type WorkerRequest = LoadModelRequest | SegmentRequest | DisposeRequest;

export interface LoadedResponse {
  type: 'loaded';
  id: number;
  backend: string;
  warnings: string[];
  timings_ms: { fetch_model: number; verify_sha256: number; create_session: number };
}

export interface ProgressResponse {
  type: 'progress';
  id: number;
  stage: Stage;
}

export interface SegmentedResponse {
  type: 'segmented';
  id: number;
  result: SegmentationResult;
}

export interface DisposedResponse {
  type: 'disposed';
  id: number;
}

/** An RtLiverError (or any error) flattened for postMessage. */
export interface ErrorResponse {
  type: 'error';
  id: number;
  code: string;
  message: string;
  hint?: string;
}

export type WorkerResponse = LoadedResponse | ProgressResponse | SegmentedResponse | DisposedResponse | ErrorResponse;

export function errorResponse(id: number, error: unknown): ErrorResponse {
  const e = error as Partial<RtLiverError> & { message?: string };
  return {
    type: 'error',
    id,
    code: typeof e?.code === 'string' ? e.code : 'WORKER_FAILED',
    message: typeof e?.message === 'string' ? e.message : String(error),
    hint: typeof e?.hint === 'string' ? e.hint : undefined,
  };
}
