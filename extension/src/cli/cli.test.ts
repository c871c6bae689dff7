/**
 * The rt-liver command end to end, as a user runs it: `npx rt-liver ...` from the repository root,
 * in a child process, on a generated phantom CT series written as DICOM files (and on the real CRLM
 * series when ../shared/data is present).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithSharedData } from '../../../test/support/shared-data';
import { makeAbdomenPhantom } from '../core/synthetic/phantom';
import { writeCtSeries } from '../core/synthetic/ct-series-writer';

const ROOT = join(__dirname, '..', '..', '..');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function rtLiver(args: string[], timeout = 120_000): Run {
  const child = spawnSync('npx', ['--no-install', 'rt-liver', ...args], { cwd: ROOT, encoding: 'utf8', timeout });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

let work: string;
let seriesDir: string;
const dimensions: [number, number, number] = [96, 80, 24];
const spacing: [number, number, number] = [3.5, 3.5, 8];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rt-liver-cli-'));
  seriesDir = join(work, 'series');
  mkdirSync(seriesDir);
  const { ct } = makeAbdomenPhantom({ seed: 'cli-e2e', dimensions, spacing });
  for (const file of writeCtSeries(ct, { seed: 'cli-e2e', instanceNumbers: 'shuffled' }).files) {
    writeFileSync(join(seriesDir, file.name), new Uint8Array(file.bytes));
  }
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('rt-liver segment on a generated DICOM series', () => {
  it('prints the volume, backend, model and per-stage timings as JSON, and writes a DICOM SEG', () => {
    const seg = join(work, 'liver.dcm');
    const run = rtLiver(['segment', seriesDir, '--json', '--backend', 'cpu', '--out', seg]);
    expect(run.stderr).not.toMatch(/unexpected failure/);
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.backend).toBe('onnxruntime-node/cpu');
    expect(typeof report.model).toBe('string');
    expect(report.volume_ml).toBeGreaterThanOrEqual(0);
    expect(report.input.dimensions).toEqual(dimensions);
    expect(report.input.spacing).toEqual(spacing);
    for (const stage of ['load_input', 'verify_sha256', 'preprocess', 'inference', 'postprocess', 'total']) {
      expect(report.timings_ms[stage]).toBeGreaterThanOrEqual(0);
    }
    // volume_ml is the voxel count times the voxel volume.
    expect(report.volume_ml).toBeCloseTo((report.voxels * spacing[0] * spacing[1] * spacing[2]) / 1000, 2);
    if (report.voxels > 0) {
      expect(report.outputs.seg).toBe(seg);
      const bytes = readFileSync(seg);
      expect(bytes.subarray(128, 132).toString('latin1')).toBe('DICM');
    }
  }, 180_000);

  it('runs the same model on onnxruntime-web (WASM) with the same mask volume', () => {
    const cpu = JSON.parse(rtLiver(['segment', seriesDir, '--json', '--backend', 'cpu', '-q']).stdout);
    const wasm = rtLiver(['segment', seriesDir, '--json', '--backend', 'wasm', '-q']);
    expect(wasm.status).toBe(0);
    const report = JSON.parse(wasm.stdout);
    expect(report.backend).toBe('onnxruntime-web/wasm');
    // Logits agree within 1e-4; only voxels with a logit difference that close to 0 may flip.
    expect(Math.abs(report.voxels - cpu.voxels)).toBeLessThanOrEqual(Math.max(10, cpu.voxels * 1e-3));
  }, 180_000);

  it('prints help for each command', () => {
    for (const command of ['segment', 'eval', 'bench']) {
      const run = rtLiver([command, '--help']);
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(`Usage: rt-liver ${command}`);
    }
  }, 120_000);
});

describe('rt-liver failures: non-zero exit and the message that says what to do', () => {
  it('a missing input', () => {
    const run = rtLiver(['segment', join(work, 'nothing-here'), '--json']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/does not exist/);
    expect(run.stdout).toBe('');
  }, 60_000);

  it('an unknown model', () => {
    const run = rtLiver(['segment', seriesDir, '--model', 'no-such-model']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/No model named "no-such-model".*Choose one of/);
  }, 60_000);

  it('an unknown backend', () => {
    const run = rtLiver(['segment', seriesDir, '--backend', 'cuda']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/Allowed choices are auto, cpu, wasm, webgpu/);
  }, 60_000);

  it('a model file whose sha256 does not match the manifest', () => {
    const models = join(work, 'models');
    mkdirSync(models, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(ROOT, 'models', 'manifest.json'), 'utf8'));
    const model = manifest.models.find((m: { name: string }) => m.name === (manifest.default ?? manifest.models[0].name));
    copyFileSync(join(ROOT, 'models', 'manifest.json'), join(models, 'manifest.json'));
    const bytes = readFileSync(join(ROOT, 'models', model.file));
    bytes[bytes.length - 1] ^= 0xff; // one flipped byte
    writeFileSync(join(models, model.file), bytes);
    const run = rtLiver(['segment', seriesDir, '--models-dir', models, '-q']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(model.file);
    expect(run.stderr).toContain(model.sha256);
    expect(run.stderr).toMatch(/restore it/);
  }, 60_000);
});

describe('rt-liver eval', () => {
  it('a SEG against itself on the CT grid: Dice 1, HD95 0', () => {
    const seg = join(work, 'liver.dcm');
    if (!existsSync(seg)) {
      console.warn('SKIPPED eval of a SEG against itself: the placeholder model found no liver, so no SEG was written.');
      return;
    }
    const run = rtLiver(['eval', seg, seg, '--grid', seriesDir, '--json']);
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.dice).toBe(1);
    expect(report.hd95_mm).toBe(0);
  }, 120_000);
});

describeWithSharedData('rt-liver segment on the real CRLM series', ['ct', 'crlm-ct-1006'], (series) => {
  it('segments the 51 x 512 x 512 series', () => {
    const run = rtLiver(['segment', series, '--json', '-q']);
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.input.dimensions).toEqual([512, 512, 51]);
    expect(report.backend).toBe('onnxruntime-node/cpu');
    expect(report.volume_ml).toBeGreaterThanOrEqual(0);
  }, 180_000);
});
