/**
 * Which onnxruntime-web backend the segmentation would use in this browser: WebGPU when
 * `navigator.gpu` yields an adapter, else WASM, with threads only on a cross-origin-isolated page
 * (SharedArrayBuffer); otherwise ORT silently runs one thread.
 */
export interface BackendInfo {
  backend: 'webgpu' | 'wasm';
  threads?: number;
  crossOriginIsolated: boolean;
  text: string;
}

export interface BrowserCapabilities {
  gpu?: { requestAdapter: () => Promise<unknown> };
  hardwareConcurrency?: number;
  crossOriginIsolated: boolean;
}

/** onnxruntime-web's own default: half the logical cores, at most 4, when threads are possible. */
export function wasmThreads(hardwareConcurrency: number | undefined, isolated: boolean): number {
  if (!isolated) return 1;
  return Math.max(1, Math.min(4, Math.ceil((hardwareConcurrency ?? 2) / 2)));
}

export async function detectBackend(caps: BrowserCapabilities): Promise<BackendInfo> {
  let adapter: unknown = null;
  try {
    adapter = caps.gpu ? await caps.gpu.requestAdapter() : null;
  } catch {
    adapter = null;
  }
  if (adapter) {
    return { backend: 'webgpu', crossOriginIsolated: caps.crossOriginIsolated, text: 'WebGPU (GPU adapter found)' };
  }
  const threads = wasmThreads(caps.hardwareConcurrency, caps.crossOriginIsolated);
  const isolation = caps.crossOriginIsolated ? 'cross-origin isolated' : 'not cross-origin isolated: threads disabled';
  return {
    backend: 'wasm',
    threads,
    crossOriginIsolated: caps.crossOriginIsolated,
    text: `WASM, ${threads} thread${threads === 1 ? '' : 's'} (${isolation}; no WebGPU adapter)`,
  };
}

export function browserCapabilities(): BrowserCapabilities {
  const nav = (globalThis as { navigator?: Navigator & { gpu?: BrowserCapabilities['gpu'] } }).navigator;
  return {
    gpu: nav?.gpu,
    hardwareConcurrency: nav?.hardwareConcurrency,
    crossOriginIsolated: Boolean((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated),
  };
}
