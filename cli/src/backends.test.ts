/**
 * Inference parity on the shared fixture (a fixed input and the PyTorch logits of the same model):
 * onnxruntime-node (CPU), onnxruntime-web (WASM) and, when an adapter exists, onnxruntime-node's
 * WebGPU EP on SwiftShader, each within the fixture's tolerance of PyTorch. Each backend runs in a
 * child process (see backends.probe.ts for why).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'model-parity');
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

interface ParityFixture {
  model: string;
  input: { shape: number[]; file: string };
  output: { shape: number[]; file: string };
  tolerance: number;
}

interface ProbeResult {
  unavailable?: string;
  backend?: string;
  dims?: number[];
  worst?: number;
  warnings?: string[];
}

const fixture = JSON.parse(readFileSync(join(FIXTURE, 'fixture.json'), 'utf8')) as ParityFixture;

function probe(backend: string, env: NodeJS.ProcessEnv = {}): ProbeResult {
  const child = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(__dirname, 'backends.probe.ts'),
      fixture.model,
      backend,
      join(FIXTURE, fixture.input.file),
      JSON.stringify(fixture.input.shape),
      join(FIXTURE, fixture.output.file),
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, ...env } },
  );
  if (child.status !== 0) throw new Error(`probe for ${backend} failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop() as string) as ProbeResult;
}

describe(`inference parity with PyTorch on ${fixture.model}`, () => {
  it.each([
    ['cpu', 'onnxruntime-node/cpu'],
    ['wasm', 'onnxruntime-web/wasm'],
  ])(`--backend %s (%s) matches the PyTorch logits within the fixture tolerance`, (backend, name) => {
    const result = probe(backend);
    expect(result.unavailable).toBeUndefined();
    expect(result.backend).toBe(name);
    expect(result.dims).toEqual(fixture.output.shape);
    expect(result.worst).toBeLessThan(fixture.tolerance);
  }, 120_000);

  it('--backend webgpu (onnxruntime-node WebGPU EP on SwiftShader) matches too, or says why it cannot run', () => {
    if (!existsSync(SWIFTSHADER_ICD)) {
      console.warn(`SKIPPED WebGPU parity: ${SWIFTSHADER_ICD} is absent (Debian chromium not installed).`);
      return;
    }
    // The dynamic loader reads LD_LIBRARY_PATH when the process starts: set it for the child.
    const result = probe('webgpu', { LD_LIBRARY_PATH: '/usr/lib/chromium', VK_ICD_FILENAMES: SWIFTSHADER_ICD });
    if (result.unavailable) {
      console.warn(`SKIPPED WebGPU parity: the WebGPU EP could not start (${result.unavailable}).`);
      return;
    }
    expect(result.backend).toBe('onnxruntime-node/webgpu');
    expect(result.dims).toEqual(fixture.output.shape);
    expect(result.worst).toBeLessThan(fixture.tolerance);
  }, 300_000);
});
