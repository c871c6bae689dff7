/**
 * Reads models/manifest.json (schema in models/README.md) and summarises the bundled model for the
 * panel: name, size in kB, parameter count. The manifest may be empty or hold a placeholder while
 * training is under way: the summary says so instead of failing.
 */
export interface ManifestModel {
  name: string;
  file: string;
  sha256?: string;
  placeholder?: boolean;
  description?: string;
  caution?: string;
  parameters?: number;
}

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

export function summariseModel(manifest: unknown, sizeBytes?: number): ModelSummary {
  const models = (manifest as { models?: ManifestModel[] } | null)?.models;
  if (!Array.isArray(models) || models.length === 0) {
    return { state: 'missing', text: 'No model is bundled yet (models/manifest.json lists none).' };
  }
  // The smallest real model is the one the browser runs by default.
  const usable = models.filter((m) => !m.placeholder);
  const model = [...(usable.length ? usable : models)].sort((a, b) => (a.parameters ?? Infinity) - (b.parameters ?? Infinity))[0];
  const sizeKb = sizeBytes === undefined ? undefined : Math.round(sizeBytes / 1024);
  const parts = [model.name];
  if (sizeKb !== undefined) parts.push(`${sizeKb} kB`);
  if (model.parameters !== undefined) parts.push(`${formatCount(model.parameters)} parameters`);
  const placeholder = Boolean(model.placeholder);
  return {
    state: placeholder ? 'placeholder' : 'ready',
    name: model.name,
    file: model.file,
    sizeKb,
    parameters: model.parameters,
    text: parts.join(', ') + (placeholder ? ' (placeholder, not trained)' : ''),
    ...(typeof model.caution === 'string' && model.caution.trim() ? { caution: model.caution.trim() } : {}),
  };
}

export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

/** Fetches the manifest and the model file's size (HEAD) from the server's /models/. */
export async function loadModelSummary(fetchImpl: typeof fetch = fetch, base = '/models/'): Promise<ModelSummary> {
  try {
    const response = await fetchImpl(`${base}manifest.json`, { cache: 'no-cache' });
    if (response.status === 404) return summariseModel(null);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const manifest = await response.json();
    const first = summariseModel(manifest);
    if (!first.file) return first;
    const head = await fetchImpl(`${base}${first.file}`, { method: 'HEAD', cache: 'no-cache' });
    const length = head.ok ? Number(head.headers.get('content-length')) : NaN;
    return summariseModel(manifest, Number.isFinite(length) ? length : undefined);
  } catch (error) {
    return { state: 'error', text: `The model manifest could not be read (${(error as Error).message}).` };
  }
}
