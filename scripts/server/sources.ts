/**
 * Which folders the embedded store publishes: the generated demo phantom, and the real studies of
 * ../shared/data when that folder exists (published into var/, never into the repository).
 * Publishing is skipped when a source's files did not change since the last run.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listFiles, publishDicom } from './publish';

export interface StoreSource {
  name: string;
  /** A folder (all its DICOM files) or an explicit file list. */
  files: string | string[];
}

export function defaultSources(repoRoot: string, sharedDataRoot = process.env.RT_LIVER_SHARED_DATA ?? resolve(repoRoot, '..', 'shared', 'data')): StoreSource[] {
  const sources: StoreSource[] = [];
  const phantom = join(repoRoot, 'var', 'studies', 'phantom');
  if (existsSync(phantom)) sources.push({ name: 'phantom', files: phantom });
  const shared = (...parts: string[]) => join(sharedDataRoot, ...parts);
  for (const study of ['crlm-ct-1004', 'crlm-ct-1006', 'pancreas-ct-cb-001']) {
    if (existsSync(shared('ct', study))) sources.push({ name: study, files: shared('ct', study) });
  }
  // Bad-input cases: a study with no CT at all (SR + SEG + RWV) and a CT series of a single image.
  if (existsSync(shared('ct', 'dcmqi-3slice', 'sr-example'))) sources.push({ name: 'dcmqi-no-ct', files: shared('ct', 'dcmqi-3slice', 'sr-example') });
  const oneSlice = shared('ct', 'dcmqi-3slice', 'segmentations', 'ct-3slice', '01.dcm');
  if (existsSync(oneSlice)) sources.push({ name: 'dcmqi-single-image', files: [oneSlice] });
  return sources;
}

function fingerprint(files: string[]): string {
  return files.map((file) => `${file}:${statSync(file).size}:${statSync(file).mtimeMs}`).join('\n');
}

/** Publishes each source whose files changed; returns log lines. */
export function publishSources(sources: StoreSource[], storeDir: string, log: (line: string) => void = () => {}): void {
  const markers = join(storeDir, 'sources');
  mkdirSync(markers, { recursive: true });
  for (const source of sources) {
    const files = typeof source.files === 'string' ? listFiles(source.files) : source.files;
    const marker = join(markers, `${source.name}.txt`);
    const print = fingerprint(files);
    if (existsSync(marker) && readFileSync(marker, 'utf8') === print) continue;
    const started = Date.now();
    const result = publishDicom(files, storeDir);
    const instances = result.studies.reduce((n, s) => n + s.instances, 0);
    const skipped = result.skippedFiles.filter((f) => !/LICENSE|PROVENANCE|\.txt$|\.json$/.test(f.path));
    log(`published ${source.name}: ${result.studies.length} study, ${instances} instances in ${Date.now() - started} ms` +
      (skipped.length ? `; skipped ${skipped.length}: ${skipped.slice(0, 3).map((f) => `${f.path} (${f.reason})`).join(', ')}` : ''));
    writeFileSync(marker, print);
  }
}
