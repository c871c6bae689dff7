/**
 * onnxruntime-web sessions: WebGPU first, threaded SIMD WASM as the fallback, and a fall back to WASM
 * (with the reason reported) when WebGPU fails while creating the session or while running it.
 *
 * onnxruntime-web is imported on first use only (it is megabytes: keeping it out of the viewer's
 * first load is the point), and the location of its .wasm/.mjs files is given explicitly: a relative
 * default resolves against the page's route and fetches index.html instead.
 *
 * Each execution provider gets its own build. The WebGPU build (`onnxruntime-web/webgpu`) runs WASM
 * sessions too, but its .wasm is compiled with Asyncify (so that WebGPU calls can suspend it), which
 * slows every CPU kernel: on the 30 k student at 64 x 128 x 128, 2 threads, it took 1.3-1.6 s per run
 * against 0.21 s for the plain threaded SIMD build (`onnxruntime-web/wasm`), in Node, medians of 5
 * (docs/viewer.md). So WASM sessions always come from the plain build, loaded only when needed.
 */
import type * as Ort from 'onnxruntime-web';
import type { ModelEntry } from './manifest';
import { checkLogits, type InferenceSession, type Logits, type SessionFactory, type SessionRequest } from './inference';

export type OrtWebModule = typeof Ort;

export interface OrtWebOptions {
  /**
   * Where the runtime files are (a URL prefix ending in '/', or explicit file URLs). Browsers need it;
   * Node's build of onnxruntime-web finds its files itself.
   */
  wasmPaths?: Ort.Env.WasmPrefixOrFilePaths;
  /** WASM threads; ORT uses one thread unless the page is cross-origin isolated. */
  numThreads?: number;
  /**
   * How to load the module for an execution provider. Default: `onnxruntime-web/webgpu` for WebGPU,
   * `onnxruntime-web/wasm` for WASM. Node passes `() => import('onnxruntime-web')` (its Node build,
   * which is the plain WASM one); tests may pass a fixed module.
   */
  load?: (provider: Provider) => Promise<OrtWebModule>;
}

type Provider = 'webgpu' | 'wasm';

const defaultLoaders: Record<Provider, () => Promise<OrtWebModule>> = {
  webgpu: () => import('onnxruntime-web/webgpu') as Promise<OrtWebModule>,
  wasm: () => import('onnxruntime-web/wasm') as Promise<OrtWebModule>,
};

const loading = new Map<Provider, Promise<OrtWebModule>>();

/** A page or a worker (not Node): where onnxruntime-web would guess its file locations wrongly. */
function inBrowser(): boolean {
  return typeof (globalThis as { window?: unknown }).window !== 'undefined' || typeof (globalThis as { importScripts?: unknown }).importScripts === 'function';
}

/**
 * The module for `provider`, loaded once per page or worker: the first caller's options (wasmPaths,
 * threads) apply to the whole page, as onnxruntime-web's `env` is global to each build.
 */
function loadOrt(options: OrtWebOptions, provider: Provider): Promise<OrtWebModule> {
  if (options.wasmPaths === undefined && options.load === undefined && inBrowser()) {
    // Left to itself, onnxruntime-web resolves its .wasm against the page route and fetches index.html.
    return Promise.reject(
      new Error('onnxruntime-web needs wasmPaths in a browser: pass the URL where its ort-wasm-*.wasm/.mjs files are served.'),
    );
  }
  let module = loading.get(provider);
  if (!module) {
    module = (options.load ?? defaultLoaders[provider])(provider).then(
      (ort) => {
        if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
        if (options.numThreads !== undefined) ort.env.wasm.numThreads = options.numThreads;
        return ort;
      },
      (error: unknown) => {
        loading.delete(provider);
        throw error;
      },
    );
    loading.set(provider, module);
  }
  return module;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function runOrt(ort: OrtWebModule, session: Ort.InferenceSession, model: ModelEntry, input: Float32Array, dims: number[]): Promise<Logits> {
  const feeds = { [model.input.name]: new ort.Tensor('float32', input, dims) };
  const results = await session.run(feeds);
  const output = results[model.output.name];
  if (!output) throw new Error(`Model "${model.name}" has no output named "${model.output.name}".`);
  const logits = checkLogits({ data: (await output.getData()) as Float32Array, dims: [...output.dims] }, dims, model);
  output.dispose();
  return logits;
}

/** One onnxruntime-web session on one execution provider. */
class OrtWebSession implements InferenceSession {
  readonly warnings: string[] = [];

  constructor(
    private readonly ort: OrtWebModule,
    private readonly session: Ort.InferenceSession,
    private readonly model: ModelEntry,
    readonly backend: string,
  ) {}

  run(input: Float32Array, dims: [1, 1, number, number, number]): Promise<Logits> {
    return runOrt(this.ort, this.session, this.model, input, dims);
  }

  dispose(): Promise<void> {
    return this.session.release();
  }
}

/**
 * WebGPU with a WASM understudy: the first failure of WebGPU, at creation or at run time, switches to
 * WASM for good and records why, so the user sees which backend really produced the mask.
 */
class WebGpuWithFallback implements InferenceSession {
  readonly warnings: string[] = [];
  private current: InferenceSession;

  /**
   * @param deviceLost rejects when the GPU device goes away (driver reset, another tab's out-of-memory,
   *   `destroy()`): a run on a lost device may never settle, so it is raced against this.
   */
  constructor(
    webgpu: InferenceSession,
    private readonly createWasm: () => Promise<InferenceSession>,
    private readonly deviceLost: Promise<never>,
  ) {
    this.current = webgpu;
    deviceLost.catch(() => undefined); // observed in run(); not an unhandled rejection meanwhile
  }

  get backend(): string {
    return this.current.backend;
  }

  async run(input: Float32Array, dims: [1, 1, number, number, number]): Promise<Logits> {
    if (this.current.backend !== WEBGPU) return this.current.run(input, dims);
    try {
      return await Promise.race([this.current.run(input, dims), this.deviceLost]);
    } catch (error) {
      this.warnings.push(`WebGPU failed while running the model (${describeError(error)}); fell back to WASM.`);
      const failed = this.current;
      this.current = await this.createWasm();
      await failed.dispose().catch(() => undefined);
      return this.current.run(input, dims);
    }
  }

  dispose(): Promise<void> {
    return this.current.dispose();
  }
}

const WEBGPU = 'onnxruntime-web/webgpu';
const WASM = 'onnxruntime-web/wasm';

async function createOrtWebSession(options: OrtWebOptions, request: SessionRequest, provider: Provider): Promise<InferenceSession> {
  const ort = await loadOrt(options, provider);
  const session = await ort.InferenceSession.create(request.bytes, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
  });
  return new OrtWebSession(ort, session, request.model, provider === 'webgpu' ? WEBGPU : WASM);
}

/**
 * The browser's (and Node's, for parity and benchmarks) session factory. 'auto' and 'webgpu' try
 * WebGPU and fall back to WASM with a warning; 'wasm' uses WASM only; 'cpu' (native) is not here.
 */
export function ortWebSessionFactory(options: OrtWebOptions = {}): SessionFactory {
  return async (request) => {
    const createWasm = () => createOrtWebSession(options, request, 'wasm');
    if (request.backend === 'wasm') return createWasm();
    if (request.backend === 'cpu') {
      throw new Error('The native CPU backend (onnxruntime-node) is not available in onnxruntime-web; use wasm.');
    }
    let webgpu: InferenceSession;
    try {
      if (typeof navigator === 'undefined' || !('gpu' in navigator)) throw new Error('this environment has no navigator.gpu');
      webgpu = await createOrtWebSession(options, request, 'webgpu');
    } catch (error) {
      const wasm = await createWasm();
      wasm.warnings.push(`WebGPU is not available (${describeError(error)}); using WASM.`);
      return wasm;
    }
    return new WebGpuWithFallback(webgpu, createWasm, deviceLostOf(await loadOrt(options, 'webgpu')));
  };
}

/** Rejects, naming the reason, once the WebGPU device that onnxruntime-web runs on is lost. */
async function deviceLostOf(ort: OrtWebModule): Promise<never> {
  // After the first WebGPU session, env.webgpu.device resolves to the device that session uses.
  const device = (await ort.env.webgpu.device) as unknown as { lost?: Promise<{ reason?: string; message?: string }> } | undefined;
  if (!device?.lost) return new Promise<never>(() => undefined); // no way to observe it: runs are not raced
  const info = await device.lost;
  throw new Error(`the WebGPU device was lost (${[info?.reason, info?.message].filter(Boolean).join(': ') || 'no reason given'})`);
}
