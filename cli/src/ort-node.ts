/**
 * onnxruntime-node sessions for the CLI: the native CPU execution provider, or its WebGPU EP (on this
 * machine a SwiftShader adapter, which needs LD_LIBRARY_PATH and VK_ICD_FILENAMES set before Node
 * starts; bin/rt-liver.cjs does that). Loaded on first use: its native addon costs startup time.
 */
import type * as OrtNode from 'onnxruntime-node';
import type { InferenceSession, Logits, SessionFactory } from '../../extension/src/core/model/inference';
import { checkLogits } from '../../extension/src/core/model/inference';
import type { ModelEntry } from '../../extension/src/core/model/manifest';

type OrtNodeModule = typeof OrtNode;

let loading: Promise<OrtNodeModule> | undefined;

function loadOrtNode(): Promise<OrtNodeModule> {
  loading ??= import('onnxruntime-node').then((module) => ((module as { default?: OrtNodeModule }).default ?? module) as OrtNodeModule);
  return loading;
}

class OrtNodeSession implements InferenceSession {
  readonly warnings: string[] = [];

  constructor(
    private readonly ort: OrtNodeModule,
    private readonly session: OrtNode.InferenceSession,
    private readonly model: ModelEntry,
    readonly backend: string,
  ) {}

  async run(input: Float32Array, dims: [1, 1, number, number, number]): Promise<Logits> {
    const feeds = { [this.model.input.name]: new this.ort.Tensor('float32', input, dims) };
    const results = await this.session.run(feeds);
    const output = results[this.model.output.name];
    if (!output) throw new Error(`Model "${this.model.name}" has no output named "${this.model.output.name}".`);
    return checkLogits({ data: output.data as Float32Array, dims: [...output.dims] }, dims, this.model);
  }

  dispose(): Promise<void> {
    return this.session.release();
  }
}

export interface OrtNodeOptions {
  threads?: number;
}

/** 'cpu' (and 'auto') -> native CPU EP; 'webgpu' -> the WebGPU EP; 'wasm' is onnxruntime-web's. */
export function ortNodeSessionFactory(options: OrtNodeOptions = {}): SessionFactory {
  return async ({ model, bytes, backend }) => {
    const ort = await loadOrtNode();
    const provider = backend === 'webgpu' ? 'webgpu' : 'cpu';
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    });
    return new OrtNodeSession(ort, session, model, `onnxruntime-node/${provider}`);
  };
}
