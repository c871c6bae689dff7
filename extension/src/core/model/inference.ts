/**
 * One small interface in front of every inference runtime (onnxruntime-node, onnxruntime-web WASM or
 * WebGPU), so the pipeline does not know which one runs. Runtimes are created by a `SessionFactory`,
 * which the host supplies: the browser worker passes the onnxruntime-web one (./ort-web), the CLI
 * also the onnxruntime-node one (cli/src/ort-node.ts), which the core must not import.
 */
import type { ModelEntry } from './manifest';

/** What the user asks for. 'cpu' = native onnxruntime-node; 'auto' = the best one available. */
export type BackendChoice = 'auto' | 'cpu' | 'wasm' | 'webgpu';

export interface Logits {
  /** float32 [1, 2, D, H, W]. */
  data: Float32Array;
  dims: number[];
}

export interface InferenceSession {
  /**
   * The runtime that produced the last result, e.g. "onnxruntime-node/cpu", "onnxruntime-web/wasm",
   * "onnxruntime-web/webgpu". It can change after a run when WebGPU failed and WASM took over.
   */
  readonly backend: string;
  /** Things the user should know, e.g. why WebGPU was not used. */
  readonly warnings: string[];
  run(input: Float32Array, dims: [1, 1, number, number, number]): Promise<Logits>;
  dispose(): Promise<void>;
}

export interface SessionRequest {
  model: ModelEntry;
  /** The verified ONNX bytes. */
  bytes: Uint8Array;
  backend: BackendChoice;
}

export type SessionFactory = (request: SessionRequest) => Promise<InferenceSession>;

/** Number of voxels in [1, 1, D, H, W]. */
export function tensorVoxels(dims: readonly number[]): number {
  return dims.reduce((product, n) => product * n, 1);
}

/** Checks a runtime's output against the contract: float32 [1, 2, D, H, W] for input [1, 1, D, H, W]. */
export function checkLogits(logits: Logits, inputDims: readonly number[], model: ModelEntry): Logits {
  const expected = [1, 2, inputDims[2], inputDims[3], inputDims[4]];
  if (logits.dims.length !== 5 || logits.dims.some((n, axis) => n !== expected[axis])) {
    throw new Error(
      `Model "${model.name}" returned ${model.output.name} of shape [${logits.dims.join(', ')}]; the contract needs [${expected.join(', ')}].`,
    );
  }
  return logits;
}
