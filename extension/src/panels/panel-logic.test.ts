import { detectBackend, wasmThreads } from './backend';
import { formatDate, formatPersonName } from './LiverPanel';
import { formatCount, loadModelSummary, summariseModel } from './modelInfo';
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

describe('summariseModel', () => {
  test('an empty or absent manifest says no model is bundled', () => {
    expect(summariseModel({ models: [] })).toMatchObject({ state: 'missing', text: expect.stringContaining('No model is bundled yet') });
    expect(summariseModel(null).state).toBe('missing');
  });

  test('prefers the smallest real model and shows name, size and parameters', () => {
    const manifest = {
      models: [
        { name: 'teacher-1.2m', file: 't.onnx', parameters: 1_250_000 },
        { name: 'student-30k', file: 's.onnx', parameters: 30_123 },
        { name: 'student-tiny', file: 'p.onnx', parameters: 100, placeholder: true },
      ],
    };
    expect(summariseModel(manifest, 133_000)).toEqual({
      state: 'ready',
      name: 'student-30k',
      file: 's.onnx',
      sizeKb: 130,
      parameters: 30_123,
      text: 'student-30k, 130 kB, 30.1 k parameters',
    });
  });

  test('a placeholder is shown as such', () => {
    const summary = summariseModel({ models: [{ name: 'student-30k', file: 's.onnx', placeholder: true }] });
    expect(summary).toMatchObject({ state: 'placeholder', text: 'student-30k (placeholder, not trained)' });
  });

  test("the model's caution comes with the summary, for the panel to show", () => {
    const summary = summariseModel({ models: [{ name: 'student-30k', file: 's.onnx', caution: ' Phantoms only. ' }] });
    expect(summary.caution).toBe('Phantoms only.');
    expect(summariseModel({ models: [{ name: 'student-30k', file: 's.onnx' }] }).caution).toBeUndefined();
  });

  test('formatCount', () => {
    expect([formatCount(512), formatCount(30_123), formatCount(1_250_000)]).toEqual(['512', '30.1 k', '1.25 M']);
  });

  test('loadModelSummary reads the manifest, then the model size from a HEAD request', async () => {
    const requests: string[] = [];
    const fakeFetch = (async (url: string, init?: { method?: string }) => {
      requests.push(`${init?.method ?? 'GET'} ${url}`);
      if (url.endsWith('manifest.json')) return new Response(JSON.stringify({ models: [{ name: 'm', file: 'm.onnx', parameters: 10 }] }));
      return new Response(null, { headers: { 'content-length': '2048' } });
    }) as typeof fetch;
    const summary = await loadModelSummary(fakeFetch, '/models/');
    expect(requests).toEqual(['GET /models/manifest.json', 'HEAD /models/m.onnx']);
    expect(summary.text).toBe('m, 2 kB, 10 parameters');
  });

  test('loadModelSummary turns a server error into a readable state', async () => {
    const failing = (async () => new Response('oops', { status: 500 })) as unknown as typeof fetch;
    expect(await loadModelSummary(failing)).toEqual({ state: 'error', text: 'The model manifest could not be read (HTTP 500).' });
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
      text: 'WASM, 1 thread (cross-origin isolated; the WebGPU adapter (google swiftshader) is a CPU fallback)',
    });
  });

  test('WASM with threads on an isolated page, one thread otherwise', async () => {
    const noAdapter = { requestAdapter: async () => null };
    expect(await detectBackend({ gpu: noAdapter, hardwareConcurrency: 8, crossOriginIsolated: true })).toMatchObject({
      backend: 'wasm',
      threads: 4,
      text: 'WASM, 4 threads (cross-origin isolated; no WebGPU adapter)',
    });
    expect((await detectBackend({ hardwareConcurrency: 8, crossOriginIsolated: false })).text).toBe(
      'WASM, 1 thread (not cross-origin isolated: threads disabled; no WebGPU adapter)',
    );
  });

  test('a failing requestAdapter falls back to WASM', async () => {
    const info = await detectBackend({ gpu: { requestAdapter: async () => { throw new Error('blocked'); } }, crossOriginIsolated: true });
    expect(info.backend).toBe('wasm');
  });

  test('wasmThreads follows onnxruntime-web: half the cores, 1 to 4', () => {
    expect([wasmThreads(2, true), wasmThreads(6, true), wasmThreads(32, true), wasmThreads(32, false)]).toEqual([1, 3, 4, 1]);
  });
});

test('names and dates are shown the way people write them', () => {
  expect(formatPersonName('Phantom^Abdomen')).toBe('Phantom, Abdomen');
  expect(formatPersonName('CRLM-CT-1004')).toBe('CRLM-CT-1004');
  expect(formatDate('19941122')).toBe('1994-11-22');
});
