/**
 * Which runtime serves which `--backend` in Node:
 *   auto, cpu -> onnxruntime-node, native CPU (the fastest here);
 *   webgpu    -> onnxruntime-node's WebGPU EP;
 *   wasm      -> onnxruntime-web's WASM build for Node (what browsers run, for parity and benchmarks).
 */
import { availableParallelism } from 'node:os';
import type { SessionFactory } from '../../extension/src/core/model/inference';
import { ortWebSessionFactory, type OrtWebModule } from '../../extension/src/core/model/ort-web';
import { ortNodeSessionFactory, type OrtNodeOptions } from './ort-node';

export const BACKENDS = ['auto', 'cpu', 'wasm', 'webgpu'] as const;

export function nodeSessionFactory(options: OrtNodeOptions = {}): SessionFactory {
  const native = ortNodeSessionFactory(options);
  const web = ortWebSessionFactory({
    // onnxruntime-web's "node" export finds its .wasm next to itself.
    load: () => import('onnxruntime-web') as Promise<OrtWebModule>,
    // onnxruntime-node uses every core by default; give WASM the same, so their ratio compares runtimes,
    // not thread counts (onnxruntime-web's own default is half the cores).
    numThreads: options.threads ?? availableParallelism(),
  });
  return (request) => (request.backend === 'wasm' ? web(request) : native(request));
}
