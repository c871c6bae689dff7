/**
 * Who may import whom (docs/architecture.md): every relative import, static, dynamic (`import()`) or
 * `require()`, of every TypeScript source, read by TypeScript's own pre-processor. The core's finer rule
 * (no Node built-in, no Node-only package or global) is extension/src/core/platform-neutral.test.ts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(__dirname, '..', '..');

/** Layers by folder, most specific first; each may import itself and what `may` lists. */
const LAYERS: Array<{ name: string; folder: string; may: string[] }> = [
  { name: 'core', folder: 'extension/src/core', may: [] },
  { name: 'plugin', folder: 'extension/src', may: ['core'] },
  { name: 'mode', folder: 'modes', may: ['plugin', 'core'] },
  { name: 'synthetic', folder: 'synthetic', may: ['core'] },
  { name: 'cli', folder: 'cli/src', may: ['core', 'synthetic'] },
];

function layerOf(path: string): string | undefined {
  const rel = relative(ROOT, path).split(sep).join('/');
  return LAYERS.find((layer) => rel === layer.folder || rel.startsWith(`${layer.folder}/`))?.name;
}

function sources(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(path);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** The imports of `file` (its text given) that its layer may not make. */
function violations(file: string, text: string): string[] {
  const from = layerOf(file);
  if (!from) return [];
  const allowed = new Set([from, ...LAYERS.find((layer) => layer.name === from)!.may]);
  const found: string[] = [];
  for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
    // Packages are the platform-neutral check's business; package.json (a package's version) is data.
    if (!fileName.startsWith('.') || /package\.json$/.test(fileName)) continue;
    const to = layerOf(resolve(dirname(file), fileName));
    if (!to || !allowed.has(to)) found.push(`${relative(ROOT, file)} (${from}) imports ${fileName} (${to ?? 'outside every layer'})`);
  }
  return found;
}

test('each layer imports only the layers below it (sources, tests excluded)', () => {
  const files = LAYERS.flatMap((layer) => sources(join(ROOT, layer.folder)));
  expect(files.length).toBeGreaterThan(50);
  expect([...new Set(files.flatMap((file) => violations(file, readFileSync(file, 'utf8'))))]).toEqual([]);
});

test('the rule sees static, dynamic and require() imports that break it', () => {
  const text = [
    "import { main } from '../../../cli/src/main';",
    "const phantom = import('../../../synthetic/phantom');",
    "const panel = require('../panels/LiverPanel');",
    "import { geometryOf } from './volume';",
  ].join('\n');
  const found = violations(join(ROOT, 'extension', 'src', 'core', 'example.ts'), text);
  expect(found).toHaveLength(3);
  expect(found.join('\n')).toContain('(cli)');
  expect(found.join('\n')).toContain('(synthetic)');
  expect(found.join('\n')).toContain('(plugin)');
});
