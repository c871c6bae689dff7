/**
 * Which onnxruntime-web backend the segmentation would use in this browser: WebGPU when
 * `navigator.gpu` yields a hardware adapter, else WASM, with threads only on a cross-origin-isolated
 * page (SharedArrayBuffer); otherwise ORT silently runs one thread. A fallback adapter (Chromium's
 * SwiftShader, a CPU implementation) counts as no GPU: it was about 100x slower than WASM here.
 */
export interface BackendInfo {
  backend: 'webgpu' | 'wasm';
  threads?: number;
  crossOriginIsolated: boolean;
  text: string;
}

interface AdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; isFallbackAdapter?: boolean };
}

export interface BrowserCapabilities {
  gpu?: { requestAdapter: () => Promise<AdapterLike | null> };
  hardwareConcurrency?: number;
  crossOriginIsolated: boolean;
}

/**
 * WASM threads for the segmentation: every logical core (`navigator.hardwareConcurrency`) when the
 * page is cross-origin isolated, else 1. onnxruntime-web's own default is half the cores, which on a
 * 2-core machine is one thread and about 1.8x slower (docs/viewer.md). The run happens in a worker,
 * so the page's own thread stays free even with every core busy.
 */
export function wasmThreads(hardwareConcurrency: number | undefined, isolated: boolean): number {
  if (!isolated) return 1;
  return Math.max(1, Math.floor(hardwareConcurrency ?? 1));
}

export async function detectBackend(caps: BrowserCapabilities): Promise<BackendInfo> {
  let adapter: AdapterLike | null = null;
  try {
    adapter = caps.gpu ? await caps.gpu.requestAdapter() : null;
  } catch {
    adapter = null;
  }
  const name = [adapter?.info?.vendor, adapter?.info?.architecture].filter(Boolean).join(' ');
  const fallback = Boolean(adapter && (adapter.isFallbackAdapter || adapter.info?.isFallbackAdapter));
  if (adapter && !fallback) {
    return { backend: 'webgpu', crossOriginIsolated: caps.crossOriginIsolated, text: `WebGPU (${name || 'GPU adapter found'})` };
  }
  const threads = wasmThreads(caps.hardwareConcurrency, caps.crossOriginIsolated);
  const isolation = caps.crossOriginIsolated ? 'cross-origin isolated' : 'not cross-origin isolated: threads disabled';
  const gpu = fallback ? `the WebGPU adapter${name ? ` (${name})` : ''} is a CPU fallback` : 'no WebGPU adapter';
  return {
    backend: 'wasm',
    threads,
    crossOriginIsolated: caps.crossOriginIsolated,
    text: `WASM, ${threads} thread${threads === 1 ? '' : 's'} (${isolation}; ${gpu})`,
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
