/**
 * The CLI's view of models/: where it is, its manifest, and a model's verified bytes.
 * models/ is found next to the repository root (the CLI runs from cli/src through tsx or from its
 * compiled bundle in cli/dist: both two levels below the root), or from RT_LIVER_MODELS.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RtLiverError } from '../../extension/src/core/errors';
import { parseManifestText, selectModel, type ModelEntry, type ModelManifest } from '../../extension/src/core/model/manifest';

export function defaultModelsDir(): string {
  return resolve(process.env.RT_LIVER_MODELS ?? join(__dirname, '..', '..', 'models'));
}

export function loadManifest(modelsDir: string): ModelManifest {
  const path = join(modelsDir, 'manifest.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new RtLiverError(
      'MANIFEST_NOT_FOUND',
      `No model manifest at ${path}.`,
      'Run from a checkout that has models/, pass --models-dir, or set RT_LIVER_MODELS.',
    );
  }
  return parseManifestText(text);
}

export interface ModelFile {
  entry: ModelEntry;
  bytes: Uint8Array;
}

/** The chosen model and its bytes (not yet verified: prepareModel checks the sha256). */
export function readModel(modelsDir: string, name?: string): ModelFile {
  const entry = selectModel(loadManifest(modelsDir), name);
  const path = join(modelsDir, entry.file);
  try {
    const buffer = readFileSync(path);
    return { entry, bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) };
  } catch {
    throw new RtLiverError(
      'MODEL_FILE_MISSING',
      `Model file ${path} ("${entry.name}") listed in models/manifest.json is missing.`,
      'Restore models/ from the repository, or export the model again from training/.',
    );
  }
}
