/**
 * The DICOM reader in a browser Web Worker, bundled as a host would bundle it (esbuild, browser
 * platform, code splitting): compressed series (JPEG-LS, JPEG 2000, RLE) decode with the WASM codecs
 * located by URL, and give the same HU as in Node.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { writeCtSeries } from '../../synthetic/ct-series-writer';
import type { Volume } from '../../extension/src/core/volume';
import { launchChromium } from '../support/browser';

const WORKER_SOURCE = `
import { configureWasmCodecs, readDicomSeries } from ${JSON.stringify(resolve(__dirname, '..', '..', 'extension', 'src', 'core', 'dicom'))};
configureWasmCodecs((_codec, fileName) => new URL('./wasm/' + fileName, self.location.href).href);
self.onmessage = async (event) => {
  try {
    const { volume } = await readDicomSeries(event.data);
    self.postMessage({ ok: true, dimensions: volume.dimensions, voxels: Array.from(volume.voxels) });
  } catch (error) {
    self.postMessage({ ok: false, error: String(error) });
  }
};
`;

const WASM_FILES = [
  'node_modules/@cornerstonejs/codec-charls/dist/charlswasm_decode.wasm',
  'node_modules/@cornerstonejs/codec-openjpeg/dist/openjpegwasm_decode.wasm',
];

let workDir: string;
let server: Server;
let browser: Browser;
let page: Page;
let source: Volume<Int16Array>;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'rt-liver-dicom-worker-'));
  const site = join(workDir, 'site');
  mkdirSync(join(site, 'wasm'), { recursive: true });
  writeFileSync(join(workDir, 'worker.ts'), WORKER_SOURCE);
  buildSync({
    entryPoints: [join(workDir, 'worker.ts')],
    outdir: site,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    // Only the codecs' Node branches mention these; dicom-parser's zlib is mapped away by its browser field.
    external: ['fs', 'path'],
    logLevel: 'error',
  });
  const root = resolve(__dirname, '..', '..');
  for (const file of WASM_FILES) copyFileSync(join(root, file), join(site, 'wasm', file.split('/').pop()!));
  server = createServer((request, response) => {
    const url = (request.url ?? '/').split('?')[0];
    if (url === '/') {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>worker</title>');
      return;
    }
    try {
      const body = readFileSync(join(site, decodeURIComponent(url)));
      const type = extname(url) === '.wasm' ? 'application/wasm' : 'text/javascript';
      response.writeHead(200, { 'content-type': type }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);

  const voxels = new Int16Array(40 * 30 * 4).map((_, index) => ((index * 7919) % 4096) - 1024);
  source = { voxels, dimensions: [40, 30, 4], spacing: [0.8, 0.8, 2], origin: [0, 0, 0], direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };
  mkdirSync(join(workDir, 'raw'));
  for (const file of writeCtSeries(source, { seed: 'worker', instanceNumbers: 'shuffled' }).files) {
    writeFileSync(join(workDir, 'raw', file.name), new Uint8Array(file.bytes));
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  rmSync(workDir, { recursive: true, force: true });
});

function transcoded(label: string, tool: string, args: string[]): { name: string; bytes: number[] }[] {
  mkdirSync(join(workDir, label));
  return ['CT0001.dcm', 'CT0002.dcm', 'CT0003.dcm', 'CT0004.dcm'].map((name) => {
    execFileSync(tool, [...args, join(workDir, 'raw', name), join(workDir, label, name)]);
    return { name, bytes: Array.from(readFileSync(join(workDir, label, name))) };
  });
}

test.each([
  ['JPEG-LS', 'dcmcjpls', ['+el']],
  ['JPEG 2000', 'gdcmconv', ['--j2k']],
  ['RLE', 'dcmcrle', []],
])('%s series decode in a module Web Worker with WASM located by URL', async (label, tool, args) => {
  const files = transcoded(label.replace(/\W/g, ''), tool, args);
  const result = await page.evaluate(
    (input) =>
      new Promise<{ ok: boolean; error?: string; dimensions?: number[]; voxels?: number[] }>((done) => {
        const worker = new Worker('/worker.js', { type: 'module' });
        worker.onmessage = (event) => done(event.data);
        worker.onerror = (event) => done({ ok: false, error: event.message });
        worker.postMessage(input.map((file) => ({ name: file.name, bytes: new Uint8Array(file.bytes).buffer })));
      }),
    files,
  );
  expect(result.error).toBeUndefined();
  expect(result.dimensions).toEqual([40, 30, 4]);
  expect(result.voxels).toEqual(Array.from(source.voxels));
}, 60_000);
