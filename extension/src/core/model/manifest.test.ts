import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRtLiverError } from '../errors';
import { parseManifest, parseManifestText, selectModel, sha256Hex, verifyModelBytes } from './manifest';

const ROOT = join(__dirname, '..', '..', '..', '..');

function entry(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    file: `${name}.onnx`,
    sha256: 'ab'.repeat(32),
    input: { name: 'ct', shape: [1, 1, 64, 128, 128], sizeDivisor: 8, orientation: 'LPS', huWindow: [-200, 300], resampling: 'trilinear-half-pixel' },
    output: { name: 'logits', channels: ['background', 'liver'], activation: 'softmax' },
    ...extra,
  };
}

describe('model manifest', () => {
  it('parses the bundled models/manifest.json and its default model', () => {
    const manifest = parseManifestText(readFileSync(join(ROOT, 'models', 'manifest.json'), 'utf8'));
    const model = selectModel(manifest);
    expect(model.input.shape[0]).toBe(1);
    expect(model.output.channels).toEqual(['background', 'liver']);
  });

  it('picks the named model, else the default, else the first non-placeholder', () => {
    const models = [entry('placeholder', { placeholder: true }), entry('student-30k'), entry('teacher')];
    expect(selectModel(parseManifest({ models })).name).toBe('student-30k');
    expect(selectModel(parseManifest({ default: 'teacher', models })).name).toBe('teacher');
    expect(selectModel(parseManifest({ models }), 'placeholder').name).toBe('placeholder');
  });

  it('keeps a model\'s caution (trimmed) and drops an empty one', () => {
    const manifest = parseManifest({ models: [entry('a', { caution: '  Phantoms only.  ' }), entry('b', { caution: ' ' }), entry('c')] });
    expect(manifest.models.map((model) => model.caution)).toEqual(['Phantoms only.', undefined, undefined]);
  });

  it('gives every bundled non-placeholder model a caution (none is validated on patient CT)', () => {
    const manifest = parseManifestText(readFileSync(join(ROOT, 'models', 'manifest.json'), 'utf8'));
    for (const model of manifest.models.filter((m) => !m.placeholder)) expect(model.caution).toMatch(/phantom/i);
  });

  it('names the known models when asked for an unknown one', () => {
    const manifest = parseManifest({ models: [entry('student-30k')] });
    expect(() => selectModel(manifest, 'nope')).toThrow(expect.objectContaining({ message: expect.stringMatching(/No model named "nope"/), hint: expect.stringMatching(/student-30k/) }));
  });

  it.each([
    [{ models: [] }, /"models" is empty/],
    [{ models: [entry('a', { sha256: 'xyz' })] }, /sha256 must be 64 hexadecimal digits/],
    [{ models: [entry('a', { input: { ...entry('a').input, shape: [1, 1, 60, 128, 128] } })] }, /not a multiple of sizeDivisor 8/],
    [{ models: [entry('a', { output: { channels: ['liver'] } })] }, /channels must be/],
    [{ models: [entry('a'), entry('a')] }, /appears twice/],
    [{ default: 'b', models: [entry('a')] }, /"default" names "b"/],
  ])('rejects an invalid manifest %#', (json, message) => {
    expect(() => parseManifest(json)).toThrow(message);
  });
});

describe('model sha256', () => {
  it('hashes like sha256sum', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('accepts the bundled model bytes', async () => {
    const manifest = parseManifestText(readFileSync(join(ROOT, 'models', 'manifest.json'), 'utf8'));
    for (const model of manifest.models) {
      await expect(verifyModelBytes(model, new Uint8Array(readFileSync(join(ROOT, 'models', model.file))))).resolves.toBeUndefined();
    }
  });

  it('rejects bytes that do not match, naming the file, both hashes and what to do', async () => {
    const model = parseManifest({ models: [entry('student-30k')] }).models[0];
    const bytes = new TextEncoder().encode('not the model');
    const actual = await sha256Hex(bytes);
    const error = await verifyModelBytes(model, bytes).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRtLiverError(error) && error.code).toBe('MODEL_CHECKSUM_MISMATCH');
    const message = (error as Error).message;
    expect(message).toContain('student-30k.onnx');
    expect(message).toContain('ab'.repeat(32));
    expect(message).toContain(actual);
    expect((error as { hint?: string }).hint).toMatch(/restore/);
  });
});
