import { detectBackend, wasmThreads } from './backend';
import { formatDate, formatPersonName } from './LiverPanel';
import { formatCount, loadModelCatalog, summariseFromCatalog, summariseModel } from './modelInfo';
import { MIN_SLICES, SeriesSummary, assessReadiness } from './readiness';
import { mergeSeries, seriesFromDisplaySets } from './studyInfo';

const ct = (n: number, extra: Partial<SeriesSummary> = {}): SeriesSummary => ({
  seriesInstanceUid: `1.2.${n}`,
  modality: 'CT',
  description: `CT ${n}`,
  numberOfImages: n,
  isReconstructable: true,
  ...extra,
});

describe('assessReadiness', () => {
  test('picks the CT series with the most images', () => {
    const result = assessReadiness([ct(2), ct(120), { ...ct(1), modality: 'SR' }]);
    expect(result).toMatchObject({ ready: true, series: { numberOfImages: 120 } });
  });

  test('a study without CT names its modalities', () => {
    const result = assessReadiness([{ ...ct(1), modality: 'SEG' }, { ...ct(3), modality: 'SR' }]);
    expect(result.ready).toBe(false);
    expect(!result.ready && result.reason).toBe(
      'Segmentation is not available: this study has no CT series (it has SEG, SR). Real-time Liver segments abdominal CT only.',
    );
  });

  test('a single image is refused with the count', () => {
    const result = assessReadiness([ct(1, { description: 'Scout', isReconstructable: false })]);
    expect(!result.ready && result.reason).toMatch(/"Scout" has only 1 image; a 3-D volume needs at least 8 slices/);
  });

  test('too few slices and irregular volumes are refused', () => {
    expect(assessReadiness([ct(MIN_SLICES - 1)]).ready).toBe(false);
    const irregular = assessReadiness([ct(40, { isReconstructable: false })]);
    expect(!irregular.ready && irregular.reason).toMatch(/do not form a regular volume/);
  });

  test('nothing loaded yet is not mistaken for "no CT"', () => {
    const result = assessReadiness([]);
    expect(!result.ready && result.reason).toBe('No series are loaded for this study yet.');
  });
});

describe('series from OHIF', () => {
  test('display sets become summaries, QIDO fills in series without display sets', () => {
    const displaySets = [
      { StudyInstanceUID: 's1', SeriesInstanceUID: 'a', Modality: 'CT', SeriesDescription: 'Abdomen', numImageFrames: 80, isReconstructable: true },
      { StudyInstanceUID: 's2', SeriesInstanceUID: 'b', Modality: 'CT', numImageFrames: 10 },
    ];
    const fromDisplaySets = seriesFromDisplaySets(displaySets, 's1');
    expect(fromDisplaySets).toEqual([{ seriesInstanceUid: 'a', modality: 'CT', description: 'Abdomen', numberOfImages: 80, isReconstructable: true }]);
    const merged = mergeSeries(fromDisplaySets, [
      { seriesInstanceUid: 'a', modality: 'CT', numberOfImages: 80 },
      { seriesInstanceUid: 'c', modality: 'SEG', numberOfImages: 1 },
    ]);
    expect(merged.map((s) => s.seriesInstanceUid)).toEqual(['a', 'c']);
  });
});

const entry = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  file: `${name}.onnx`,
  sha256: 'a'.repeat(64),
  input: { name: 'ct', shape: [1, 1, 64, 128, 128], sizeDivisor: 8 },
  output: { name: 'logits', channels: ['background', 'liver'] },
  ...extra,
});

describe('models from the manifest (the core reader)', () => {
  test('the catalog starts from the manifest default, as the CLI does, and sizes every model', async () => {
    const requests: string[] = [];
    const manifest = { default: 'student-100k', models: [entry('student-30k', { parameters: 30_123 }), entry('student-100k', { parameters: 102_418 })] };
    const fakeFetch = (async (url: string, init?: { method?: string }) => {
      requests.push(`${init?.method ?? 'GET'} ${url}`);
      if (url.endsWith('manifest.json')) return new Response(JSON.stringify(manifest));
      return new Response(null, { headers: { 'content-length': url.includes('30k') ? '133000' : '424245' } });
    }) as typeof fetch;
    const catalog = await loadModelCatalog(fakeFetch, '/models/');
    expect(catalog.defaultName).toBe('student-100k');
    expect(requests.sort()).toEqual(['GET /models/manifest.json', 'HEAD /models/student-100k.onnx', 'HEAD /models/student-30k.onnx']);
    expect(summariseFromCatalog(catalog).text).toBe('student-100k, 414 kB, 102.4 k parameters');
    expect(summariseFromCatalog(catalog, 'student-30k').text).toBe('student-30k, 130 kB, 30.1 k parameters');
  });

  test('the bundled manifest: the panel default is the CLI default', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { parseManifestText, selectModel } = await import('../core/model/manifest');
    const text = readFileSync(join(__dirname, '..', '..', '..', 'models', 'manifest.json'), 'utf8');
    const fakeFetch = (async (url: string) => (url.endsWith('manifest.json') ? new Response(text) : new Response(null))) as typeof fetch;
    const catalog = await loadModelCatalog(fakeFetch);
    expect(catalog.defaultName).toBe(selectModel(parseManifestText(text)).name);
  });

  test('a placeholder is shown as such, and the caution comes with the summary', () => {
    expect(summariseModel({ ...entry('student-30k'), placeholder: true } as never)).toMatchObject({ state: 'placeholder', text: 'student-30k (placeholder, not trained)' });
    expect(summariseModel({ ...entry('student-30k'), caution: 'Phantoms only.' } as never).caution).toBe('Phantoms only.');
    expect(summariseModel(undefined).state).toBe('missing');
  });

  test('formatCount', () => {
    expect([formatCount(512), formatCount(30_123), formatCount(1_250_000)]).toEqual(['512', '30.1 k', '1.25 M']);
  });

  test('a server error or an invalid manifest becomes a readable state', async () => {
    const failing = (async () => new Response('oops', { status: 500 })) as unknown as typeof fetch;
    expect(await loadModelCatalog(failing)).toMatchObject({ state: 'error', text: 'The model manifest could not be read (HTTP 500).' });
    const invalid = (async () => new Response(JSON.stringify({ models: [{ name: 'x' }] }))) as unknown as typeof fetch;
    expect((await loadModelCatalog(invalid)).text).toMatch(/models\/manifest.json is invalid: models\[0\].sha256/);
  });
});

describe('detectBackend', () => {
  test('WebGPU when a hardware adapter is granted', async () => {
    const adapter = { info: { vendor: 'nvidia', architecture: 'ampere', isFallbackAdapter: false } };
    const info = await detectBackend({ gpu: { requestAdapter: async () => adapter }, hardwareConcurrency: 8, crossOriginIsolated: true });
    expect(info).toMatchObject({ backend: 'webgpu', text: 'WebGPU (nvidia ampere)' });
  });

  test('a CPU fallback adapter (SwiftShader) is not used: WASM is faster', async () => {
    const adapter = { info: { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true } };
    const info = await detectBackend({ gpu: { requestAdapter: async () => adapter }, hardwareConcurrency: 2, crossOriginIsolated: true });
    expect(info).toMatchObject({
      backend: 'wasm',
      text: 'WASM, 2 threads (cross-origin isolated; the WebGPU adapter (google swiftshader) is a CPU fallback)',
    });
  });

  test('WASM with threads on an isolated page, one thread otherwise', async () => {
    const noAdapter = { requestAdapter: async () => null };
    expect(await detectBackend({ gpu: noAdapter, hardwareConcurrency: 8, crossOriginIsolated: true })).toMatchObject({
      backend: 'wasm',
      threads: 8,
      text: 'WASM, 8 threads (cross-origin isolated; no WebGPU adapter)',
    });
    expect((await detectBackend({ hardwareConcurrency: 8, crossOriginIsolated: false })).text).toBe(
      'WASM, 1 thread (not cross-origin isolated: threads disabled; no WebGPU adapter)',
    );
  });

  test('a failing requestAdapter falls back to WASM', async () => {
    const info = await detectBackend({ gpu: { requestAdapter: async () => { throw new Error('blocked'); } }, crossOriginIsolated: true });
    expect(info.backend).toBe('wasm');
  });

  test('wasmThreads uses every core on an isolated page, one thread otherwise', () => {
    expect([wasmThreads(2, true), wasmThreads(6, true), wasmThreads(32, true), wasmThreads(32, false), wasmThreads(undefined, true)]).toEqual([2, 6, 32, 1, 1]);
  });
});

test('names and dates are shown the way people write them', () => {
  expect(formatPersonName('Phantom^Abdomen')).toBe('Phantom, Abdomen');
  expect(formatPersonName('CRLM-CT-1004')).toBe('CRLM-CT-1004');
  expect(formatDate('19941122')).toBe('1994-11-22');
});
