/**
 * `models/manifest.json`: which models exist, what they expect and how to check their bytes.
 * The schema is the model contract in models/README.md. Parsing validates every field the core
 * relies on, so a broken manifest fails here with a message that names the field, not later as a
 * wrong mask.
 */
import { RtLiverError } from '../errors';

/**
 * The HU window a model's input is clipped to when its manifest entry names none: liver and its
 * neighbours (about 40-160 HU, contrast-enhanced) with fat and bone edges kept, air and dense bone cut.
 */
export const DEFAULT_HU_WINDOW: readonly [number, number] = [-200, 300];

export interface ModelInputSpec {
  /** Tensor name in the ONNX graph (contract: "ct"). */
  name: string;
  /** [1, 1, D, H, W] = [1, 1, k, j, i] of the canonical LPS-ordered volume. */
  shape: [1, 1, number, number, number];
  sizeDivisor: number;
  orientation: 'LPS';
  huWindow: [number, number];
  resampling: 'trilinear-half-pixel';
}

export interface ModelOutputSpec {
  name: string;
  channels: string[];
  activation: string;
}

export interface ModelEntry {
  name: string;
  file: string;
  sha256: string;
  /** An untrained or stand-in network: it runs end to end but its masks mean nothing. */
  placeholder: boolean;
  description: string;
  /**
   * What a user must know before trusting its masks (e.g. "trained on synthetic phantoms only"): repeated
   * in the warnings of every result, so the CLI prints it and the viewer shows it.
   */
  caution?: string;
  parameters?: number;
  flops?: number;
  input: ModelInputSpec;
  output: ModelOutputSpec;
  training?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
  card?: string;
}

export interface ModelManifest {
  default?: string;
  models: ModelEntry[];
}

const MANIFEST_HINT = 'Fix models/manifest.json (schema in models/README.md) or re-export the models from training/.';

function invalid(what: string): RtLiverError {
  return new RtLiverError('MANIFEST_INVALID', `models/manifest.json is invalid: ${what}.`, MANIFEST_HINT);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(record: Record<string, unknown>, key: string, where: string): string {
  const value = record[key];
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${where}.${key} must be a non-empty string`);
  return value;
}

function parseInput(value: unknown, where: string): ModelInputSpec {
  if (!isRecord(value)) throw invalid(`${where}.input is missing`);
  const shape = value.shape;
  if (
    !Array.isArray(shape) ||
    shape.length !== 5 ||
    !shape.every((n) => Number.isInteger(n) && n > 0) ||
    shape[0] !== 1 ||
    shape[1] !== 1
  ) {
    throw invalid(`${where}.input.shape must be [1, 1, D, H, W] with positive integers`);
  }
  const sizeDivisor = value.sizeDivisor ?? 1;
  if (!Number.isInteger(sizeDivisor) || (sizeDivisor as number) < 1) {
    throw invalid(`${where}.input.sizeDivisor must be a positive integer`);
  }
  for (const n of shape.slice(2) as number[]) {
    if (n % (sizeDivisor as number) !== 0) {
      throw invalid(`${where}.input.shape ${JSON.stringify(shape)} is not a multiple of sizeDivisor ${sizeDivisor}`);
    }
  }
  const orientation = value.orientation ?? 'LPS';
  if (orientation !== 'LPS') throw invalid(`${where}.input.orientation must be "LPS" (got ${JSON.stringify(orientation)})`);
  const resampling = value.resampling ?? 'trilinear-half-pixel';
  if (resampling !== 'trilinear-half-pixel') {
    throw invalid(`${where}.input.resampling must be "trilinear-half-pixel" (got ${JSON.stringify(resampling)})`);
  }
  const huWindow = value.huWindow ?? [...DEFAULT_HU_WINDOW];
  if (
    !Array.isArray(huWindow) ||
    huWindow.length !== 2 ||
    !huWindow.every((n) => typeof n === 'number' && Number.isFinite(n)) ||
    huWindow[0] >= huWindow[1]
  ) {
    throw invalid(`${where}.input.huWindow must be [huMin, huMax] with huMin < huMax`);
  }
  return {
    name: typeof value.name === 'string' ? value.name : 'ct',
    shape: shape as ModelInputSpec['shape'],
    sizeDivisor: sizeDivisor as number,
    orientation: 'LPS',
    huWindow: [huWindow[0], huWindow[1]],
    resampling: 'trilinear-half-pixel',
  };
}

function parseOutput(value: unknown, where: string): ModelOutputSpec {
  if (!isRecord(value)) throw invalid(`${where}.output is missing`);
  const channels = value.channels;
  if (!Array.isArray(channels) || channels.length !== 2 || channels[1] !== 'liver') {
    throw invalid(`${where}.output.channels must be ["background", "liver"]`);
  }
  return {
    name: typeof value.name === 'string' ? value.name : 'logits',
    channels: channels as string[],
    activation: typeof value.activation === 'string' ? value.activation : 'softmax',
  };
}

function parseEntry(value: unknown, index: number): ModelEntry {
  const where = `models[${index}]`;
  if (!isRecord(value)) throw invalid(`${where} is not an object`);
  const sha256 = requireString(value, 'sha256', where).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw invalid(`${where}.sha256 must be 64 hexadecimal digits`);
  const file = requireString(value, 'file', where);
  if (file.includes('..') || file.startsWith('/')) throw invalid(`${where}.file must be a file name inside models/`);
  return {
    name: requireString(value, 'name', where),
    file,
    sha256,
    placeholder: value.placeholder === true,
    description: typeof value.description === 'string' ? value.description : '',
    caution: typeof value.caution === 'string' && value.caution.trim() ? value.caution.trim() : undefined,
    parameters: typeof value.parameters === 'number' ? value.parameters : undefined,
    flops: typeof value.flops === 'number' ? value.flops : undefined,
    input: parseInput(value.input, where),
    output: parseOutput(value.output, where),
    training: isRecord(value.training) ? value.training : undefined,
    metrics: isRecord(value.metrics) ? value.metrics : undefined,
    card: typeof value.card === 'string' ? value.card : undefined,
  };
}

/** Validates parsed manifest JSON. */
export function parseManifest(json: unknown): ModelManifest {
  if (!isRecord(json) || !Array.isArray(json.models)) throw invalid('it has no "models" array');
  if (json.models.length === 0) throw invalid('"models" is empty');
  const models = json.models.map(parseEntry);
  const names = new Set<string>();
  for (const model of models) {
    if (names.has(model.name)) throw invalid(`model name "${model.name}" appears twice`);
    names.add(model.name);
  }
  const defaultName = typeof json.default === 'string' ? json.default : undefined;
  if (defaultName !== undefined && !names.has(defaultName)) {
    throw invalid(`"default" names "${defaultName}", which is not in "models"`);
  }
  return { default: defaultName, models };
}

/** Parses manifest text (the bytes of models/manifest.json). */
export function parseManifestText(text: string): ModelManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalid(`it is not JSON (${(error as Error).message})`);
  }
  return parseManifest(json);
}

/**
 * The model to use: the one named, else the manifest's `default`, else the first model that is not a
 * placeholder, else the first model (a placeholder; callers warn about it).
 */
export function selectModel(manifest: ModelManifest, name?: string): ModelEntry {
  if (name !== undefined) {
    const found = manifest.models.find((model) => model.name === name);
    if (!found) {
      throw new RtLiverError(
        'MODEL_NOT_FOUND',
        `No model named "${name}" in models/manifest.json.`,
        `Choose one of: ${manifest.models.map((model) => model.name).join(', ')}.`,
      );
    }
    return found;
  }
  if (manifest.default !== undefined) return selectModel(manifest, manifest.default);
  return manifest.models.find((model) => !model.placeholder) ?? manifest.models[0];
}

function toHex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** SHA-256 as lowercase hex, through WebCrypto (present in browsers, workers and Node 20). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const view = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  return toHex(await globalThis.crypto.subtle.digest('SHA-256', view as Uint8Array<ArrayBuffer>));
}

/** Throws MODEL_CHECKSUM_MISMATCH unless the bytes hash to the manifest's sha256. */
export async function verifyModelBytes(model: ModelEntry, bytes: Uint8Array): Promise<void> {
  const actual = await sha256Hex(bytes);
  if (actual !== model.sha256) {
    throw new RtLiverError(
      'MODEL_CHECKSUM_MISMATCH',
      `Model file ${model.file} ("${model.name}") does not match models/manifest.json: expected sha256 ${model.sha256}, got ${actual}.`,
      'The file is corrupt, truncated or from another export: restore it (git checkout models/, or re-run the export in training/) and update the manifest together with the file.',
    );
  }
}
