/**
 * onnxruntime-web in Debian's Chromium, through the core's own session factory (core/model/ort-web.ts,
 * bundled for the browser as the viewer's worker bundles it): WebGPU (SwiftShader adapter with
 * --enable-unsafe-webgpu) and WASM each match the PyTorch logits of the parity fixture, and without
 * WebGPU the factory falls back to WASM and says why.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser';

const ROOT = join(__dirname, '..', '..');
const ORT_DIST = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'model-parity');
const fixture = JSON.parse(readFileSync(join(FIXTURE, 'fixture.json'), 'utf8')) as {
  model: string;
  modelFile: string;
  input: { shape: number[]; file: string };
  output: { file: string };
  tolerance: number;
};

const PAGE = `<!doctype html><meta charset="utf-8"><title>ort-web parity</title><script type="module" src="/bundle.js"></script>`;

/** The page's code: the core factory, given the model bytes, runs the fixture input. */
const ENTRY = `
import { ortWebSessionFactory } from './extension/src/core/model/ort-web';
import { parseManifest, selectModel } from './extension/src/core/model/manifest';
window.runParity = async (backend) => {
  const fetchBytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
  const manifest = parseManifest(await (await fetch('/models/manifest.json')).json());
  const model = selectModel(manifest, ${JSON.stringify(fixture.model)});
  const bytes = await fetchBytes('/models/' + model.file);
  const input = new Float32Array((await fetchBytes('/fixture/${fixture.input.file}')).buffer);
  const reference = new Float32Array((await fetchBytes('/fixture/${fixture.output.file}')).buffer);
  const factory = ortWebSessionFactory({ wasmPaths: '/ort/' });
  const session = await factory({ model, bytes, backend });
  const logits = await session.run(input, ${JSON.stringify(fixture.input.shape)});
  let worst = 0;
  for (let n = 0; n < reference.length; n++) worst = Math.max(worst, Math.abs(logits.data[n] - reference[n]));
  const result = { backend: session.backend, warnings: [...session.warnings], worst, dims: logits.dims, isolated: self.crossOriginIsolated };
  await session.dispose();
  return result;
};
/** A model with a 3-D ConvTranspose, which onnxruntime-web's WebGPU EP cannot run. */
window.runConvTranspose = async (backend) => {
  const bytes = new Uint8Array(await (await fetch('/extra/conv-transpose-3d.onnx')).arrayBuffer());
  const model = parseManifest({ models: [{ name: 'conv-transpose-3d', file: 'conv-transpose-3d.onnx', sha256: '0'.repeat(64),
    input: { name: 'ct', shape: [1, 1, 16, 32, 32], sizeDivisor: 2 }, output: { name: 'logits', channels: ['background', 'liver'] } }] }).models[0];
  const session = await ortWebSessionFactory({ wasmPaths: '/ort/' })({ model, bytes, backend });
  const before = session.backend;
  const logits = await session.run(new Float32Array(16 * 32 * 32).fill(0.5), [1, 1, 16, 32, 32]);
  const result = { before, backend: session.backend, warnings: [...session.warnings], dims: logits.dims, finite: logits.data.every(Number.isFinite) };
  await session.dispose();
  return result;
};
/**
 * The GPU device lost between two runs (as a driver reset or another tab's out-of-memory does it): the
 * device onnxruntime-web runs on is destroyed, and the next run must still give the logits, on WASM.
 */
window.runDeviceLost = async (backend) => {
  const ort = await import('onnxruntime-web/webgpu');
  const manifest = parseManifest(await (await fetch('/models/manifest.json')).json());
  const model = selectModel(manifest, ${JSON.stringify(fixture.model)});
  const bytes = new Uint8Array(await (await fetch('/models/' + model.file)).arrayBuffer());
  const input = new Float32Array(await (await fetch('/fixture/${fixture.input.file}')).arrayBuffer());
  const reference = new Float32Array(await (await fetch('/fixture/${fixture.output.file}')).arrayBuffer());
  const session = await ortWebSessionFactory({ wasmPaths: '/ort/' })({ model, bytes, backend });
  const before = session.backend;
  if (before === 'onnxruntime-web/webgpu') (await ort.env.webgpu.device).destroy();
  const logits = await session.run(input, ${JSON.stringify(fixture.input.shape)});
  let worst = 0;
  for (let n = 0; n < reference.length; n++) worst = Math.max(worst, Math.abs(logits.data[n] - reference[n]));
  const result = { before, backend: session.backend, warnings: [...session.warnings], worst };
  await session.dispose();
  return result;
};
/** The segmentation worker through its client, against the same pipeline run in the page. */
window.runWorker = async (backend) => {
  const { SegmentationWorkerClient } = await import('./extension/src/core/model/worker-client');
  const { prepareModel, segmentLiver } = await import('./extension/src/core/model/pipeline');
  const { makeAbdomenPhantom } = await import('./synthetic/phantom');
  const manifest = parseManifest(await (await fetch('/models/manifest.json')).json());
  const model = selectModel(manifest);
  const modelUrl = location.origin + '/models/' + model.file;
  // 340 mm head to feet: long enough for the second pass on the slices around the liver.
  const { ct } = makeAbdomenPhantom({ seed: 'worker', dimensions: [96, 80, 34], spacing: [4, 4, 10] });
  const client = new SegmentationWorkerClient(new Worker('/worker.js', { type: 'module' }));
  const loaded = await client.load(model, modelUrl, backend, { wasmPaths: location.origin + '/ort/' });
  const stages = [];
  const fromWorker = await client.segment(ct, { onStage: (stage) => stages.push(stage) });
  let badModel;
  try {
    await client.load({ ...model, sha256: 'f'.repeat(64) }, modelUrl, backend, { wasmPaths: location.origin + '/ort/' });
  } catch (error) {
    badModel = { name: error.name, code: error.code, message: error.message, hint: error.hint };
  }
  await client.dispose();
  const bytes = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
  const direct = await segmentLiver(ct, await prepareModel(model, bytes, backend, ortWebSessionFactory({ wasmPaths: '/ort/' })));
  let differences = 0;
  for (let n = 0; n < direct.mask.voxels.length; n++) if (direct.mask.voxels[n] !== fromWorker.mask.voxels[n]) differences++;
  return { loaded, stages, backend: fromWorker.backend, voxels: fromWorker.voxels, volumeMl: fromWorker.volumeMl,
    dimensions: fromWorker.mask.dimensions, directVoxels: direct.voxels, differences, badModel,
    narrowedField: fromWorker.narrowedField, directNarrowedField: direct.narrowedField };
};
window.ready = true;
`;

/** Exported by PyTorch at test time: Conv3d (stride 2) then ConvTranspose3d back to the input size. */
const CONV_TRANSPOSE_EXPORT = `
import io, sys, torch, torch.nn as nn
torch.manual_seed(0)
class M(nn.Module):
    def __init__(s):
        super().__init__(); s.d = nn.Conv3d(1, 2, 2, stride=2); s.u = nn.ConvTranspose3d(2, 2, 2, stride=2)
    def forward(s, x): return s.u(s.d(x))
buffer = io.BytesIO()
torch.onnx.export(M().eval(), torch.randn(1, 1, 16, 32, 32), buffer, input_names=['ct'], output_names=['logits'],
                  dynamic_axes={'ct': {2: 'D', 3: 'H', 4: 'W'}, 'logits': {2: 'D', 3: 'H', 4: 'W'}}, opset_version=17)
sys.stdout.buffer.write(buffer.getvalue())
`;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.html': 'text/html' };

let server: Server;
let origin: string;
let bundle: string;
let workerBundle: string;
let convTransposeModel: Buffer;
/** The onnxruntime-web runtime files the pages fetched, in order (reset by each test that reads it). */
let ortRequests: string[] = [];

function serveFile(root: string, relative: string): Buffer | undefined {
  const path = normalize(join(root, relative));
  if (!path.startsWith(root)) return undefined;
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    splitting: false,
    write: false,
    logLevel: 'error',
  });
  bundle = result.outputFiles[0].text;
  const worker = await build({
    entryPoints: [join(ROOT, 'extension', 'src', 'core', 'model', 'segmentation-worker.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'error',
  });
  workerBundle = worker.outputFiles[0].text;
  convTransposeModel = spawnSync('/usr/bin/python3', ['-c', CONV_TRANSPOSE_EXPORT], { maxBuffer: 1 << 20 }).stdout;
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    let body: Buffer | string | undefined;
    if (url.pathname === '/') body = PAGE;
    else if (url.pathname === '/bundle.js') body = bundle;
    else if (url.pathname === '/worker.js') body = workerBundle;
    else if (url.pathname.startsWith('/ort/')) {
      ortRequests.push(url.pathname.slice(5));
      body = serveFile(ORT_DIST, url.pathname.slice(5));
    }
    else if (url.pathname.startsWith('/models/')) body = serveFile(join(ROOT, 'models'), url.pathname.slice(8));
    else if (url.pathname.startsWith('/fixture/')) body = serveFile(FIXTURE, url.pathname.slice(9));
    else if (url.pathname === '/extra/conv-transpose-3d.onnx') body = convTransposeModel;
    // Cross-origin isolation: without it onnxruntime-web's WASM runs on one thread.
    response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    if (body === undefined) {
      response.statusCode = 404;
      response.end('not found');
      return;
    }
    response.setHeader('Content-Type', url.pathname === '/' ? 'text/html' : (TYPES[extname(url.pathname)] ?? 'application/octet-stream'));
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

interface ParityResult {
  backend: string;
  warnings: string[];
  worst: number;
  dims: number[];
  isolated: boolean;
}

async function runInBrowser<T = ParityResult>(browser: Browser, backend: string, run = 'runParity'): Promise<T> {
  const page = await browser.newPage();
  try {
    await page.goto(origin);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    return await page.evaluate(
      ([name, choice]) => (window as unknown as Record<string, (b: string) => Promise<T>>)[name](choice),
      [run, backend] as const,
    );
  } finally {
    await page.close();
  }
}

describe('onnxruntime-web in Chromium through the core session factory', () => {
  it('WASM (threaded, cross-origin isolated) matches the PyTorch logits', async () => {
    const browser = await launchChromium();
    ortRequests = [];
    try {
      const result = await runInBrowser(browser, 'wasm');
      expect(result.isolated).toBe(true);
      expect(result.backend).toBe('onnxruntime-web/wasm');
      // The plain threaded SIMD runtime, not the WebGPU build's Asyncify one (several times slower on CPU).
      expect(ortRequests).toContain('ort-wasm-simd-threaded.wasm');
      expect(ortRequests.filter((file) => /asyncify|jsep|jspi/.test(file))).toEqual([]);
      expect(result.dims).toEqual([1, 2, ...fixture.input.shape.slice(2)]);
      expect(result.worst).toBeLessThan(fixture.tolerance);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('WebGPU on the SwiftShader adapter matches the PyTorch logits, or falls back to WASM saying why', async () => {
    const browser = await launchChromium({ webgpu: true });
    try {
      const result = await runInBrowser(browser, 'webgpu');
      if (result.backend !== 'onnxruntime-web/webgpu') {
        console.warn(`SKIPPED WebGPU parity in Chromium: ${result.warnings.join(' ')}`);
        expect(result.warnings.join(' ')).toMatch(/WebGPU/);
      }
      expect(result.worst).toBeLessThan(fixture.tolerance);
    } finally {
      await browser.close();
    }
  }, 240_000);

  it('without WebGPU, asking for it gives WASM and a warning that names the reason', async () => {
    const browser = await launchChromium({ webgpu: false });
    try {
      const result = await runInBrowser(browser, 'auto');
      expect(result.backend).toBe('onnxruntime-web/wasm');
      expect(result.warnings.join(' ')).toMatch(/WebGPU is not available/);
      expect(result.worst).toBeLessThan(fixture.tolerance);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('when WebGPU fails while running (3-D ConvTranspose), the run is redone on WASM and the reason reported', async () => {
    expect(convTransposeModel.length).toBeGreaterThan(100);
    const browser = await launchChromium({ webgpu: true });
    try {
      const result = await runInBrowser<{ before: string; backend: string; warnings: string[]; dims: number[]; finite: boolean }>(
        browser,
        'webgpu',
        'runConvTranspose',
      );
      if (result.before !== 'onnxruntime-web/webgpu') {
        console.warn(`SKIPPED run-time fallback: WebGPU did not start (${result.warnings.join(' ')}).`);
        return;
      }
      expect(result.backend).toBe('onnxruntime-web/wasm');
      expect(result.warnings.join(' ')).toMatch(/WebGPU failed while running the model .*fell back to WASM/);
      expect(result.dims).toEqual([1, 2, 16, 32, 32]);
      expect(result.finite).toBe(true);
    } finally {
      await browser.close();
    }
  }, 240_000);

  it('when the WebGPU device is lost, the next run is done on WASM and says the device was lost', async () => {
    const browser = await launchChromium({ webgpu: true });
    try {
      const result = await runInBrowser<{ before: string; backend: string; warnings: string[]; worst: number }>(browser, 'webgpu', 'runDeviceLost');
      if (result.before !== 'onnxruntime-web/webgpu') {
        console.warn(`SKIPPED device-loss fallback: WebGPU did not start (${result.warnings.join(' ')}).`);
        expect(result.warnings.join(' ')).toMatch(/WebGPU/);
        return;
      }
      expect(result.backend).toBe('onnxruntime-web/wasm');
      expect(result.warnings.join(' ')).toMatch(/WebGPU failed while running the model \(the WebGPU device was lost.*\); fell back to WASM/);
      expect(result.worst).toBeLessThan(fixture.tolerance);
    } finally {
      await browser.close();
    }
  }, 240_000);

  it('the segmentation worker loads the model, reports stages, returns the same mask as the page, and names a bad checksum', async () => {
    const browser = await launchChromium();
    try {
      const result = await runInBrowser<{
        loaded: { backend: string; timings_ms: Record<string, number> };
        stages: string[];
        backend: string;
        voxels: number;
        volumeMl: number;
        dimensions: number[];
        directVoxels: number;
        differences: number;
        badModel?: { name: string; code: string; message: string; hint: string };
        narrowedField?: { axis: number; start: number; stop: number; seriesMm: number; keptMm: number };
        directNarrowedField?: { axis: number; start: number; stop: number };
      }>(browser, 'wasm', 'runWorker');
      expect(result.loaded.backend).toBe('onnxruntime-web/wasm');
      expect(result.loaded.timings_ms.verify_sha256).toBeGreaterThanOrEqual(0);
      // Two passes: the whole series, then the slices around the liver, on the worker as in the page.
      expect(result.stages).toEqual(['preprocess', 'inference', 'postprocess', 'preprocess', 'inference', 'postprocess']);
      expect(result.narrowedField).toMatchObject({ axis: 2, seriesMm: 340 });
      expect(result.directNarrowedField).toMatchObject({ start: result.narrowedField!.start, stop: result.narrowedField!.stop });
      expect(result.dimensions).toEqual([96, 80, 34]);
      expect(result.volumeMl).toBeCloseTo((result.voxels * 4 * 4 * 10) / 1000, 6);
      expect(result.differences).toBe(0);
      expect(result.voxels).toBe(result.directVoxels);
      expect(result.badModel?.code).toBe('MODEL_CHECKSUM_MISMATCH');
      expect(result.badModel?.message).toContain('f'.repeat(64));
      expect(result.badModel?.hint).toMatch(/restore/);
    } finally {
      await browser.close();
    }
  }, 240_000);
});
