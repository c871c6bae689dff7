/**
 * The models the panel offers, read from the server's models/manifest.json with the core's manifest
 * reader (core/model/manifest.ts), so the viewer and the CLI validate it alike and start from the
 * same model: the manifest's `default`. Each model is summarised for the panel: name, size in kB,
 * parameter count, and its caution.
 */
import { RtLiverError, errorText } from '../core/errors';
import { type ModelEntry, type ModelManifest, parseManifest, selectModel } from '../core/model/manifest';

export interface ModelSummary {
  state: 'ready' | 'placeholder' | 'missing' | 'error';
  name?: string;
  file?: string;
  sizeKb?: number;
  parameters?: number;
  text: string;
  /** The manifest's caution for this model, shown under it. */
  caution?: string;
}

export function summariseModel(model: ModelEntry | undefined, sizeBytes?: number): ModelSummary {
  if (!model) return { state: 'missing', text: 'No model is bundled yet (models/manifest.json lists none).' };
  const sizeKb = sizeBytes === undefined ? undefined : Math.round(sizeBytes / 1024);
  const parts = [model.name];
  if (sizeKb !== undefined) parts.push(`${sizeKb} kB`);
  if (model.parameters !== undefined) parts.push(`${formatCount(model.parameters)} parameters`);
  return {
    state: model.placeholder ? 'placeholder' : 'ready',
    name: model.name,
    file: model.file,
    sizeKb,
    parameters: model.parameters,
    text: parts.join(', ') + (model.placeholder ? ' (placeholder, not trained)' : ''),
    ...(model.caution ? { caution: model.caution } : {}),
  };
}

export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

/** The manifest's models, the default among them, and each file's size (for the summaries). */
export interface ModelCatalog {
  state: 'ready' | 'missing' | 'error';
  manifest?: ModelManifest;
  /** Name of the model the viewer starts with: the manifest's default, as in the CLI. */
  defaultName?: string;
  sizes: Record<string, number | undefined>;
  /** Why there is no usable manifest. */
  text?: string;
}

/** Fetches the manifest and each model file's size (HEAD) from the server's /models/. */
export async function loadModelCatalog(fetchImpl: typeof fetch = fetch, base = '/models/'): Promise<ModelCatalog> {
  try {
    const response = await fetchImpl(`${base}manifest.json`, { cache: 'no-cache' });
    if (response.status === 404) return { state: 'missing', sizes: {}, text: summariseModel(undefined).text };
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const manifest = parseManifest(await response.json());
    const sizes: Record<string, number | undefined> = {};
    await Promise.all(
      manifest.models.map(async (model) => {
        const head = await fetchImpl(`${base}${model.file}`, { method: 'HEAD', cache: 'no-cache' });
        const length = head.ok ? Number(head.headers.get('content-length')) : NaN;
        sizes[model.name] = Number.isFinite(length) ? length : undefined;
      }),
    );
    return { state: 'ready', manifest, defaultName: selectModel(manifest).name, sizes };
  } catch (error) {
    const reason = error instanceof RtLiverError ? errorText(error) : `The model manifest could not be read (${(error as Error).message}).`;
    return { state: 'error', sizes: {}, text: reason };
  }
}

/** The summary of one model of the catalog (the default when `name` is not given). */
export function summariseFromCatalog(catalog: ModelCatalog, name?: string): ModelSummary {
  if (catalog.state !== 'ready' || !catalog.manifest) return { state: catalog.state === 'missing' ? 'missing' : 'error', text: catalog.text ?? 'No model.' };
  const model = selectModel(catalog.manifest, name ?? catalog.defaultName);
  return summariseModel(model, catalog.sizes[model.name]);
}
