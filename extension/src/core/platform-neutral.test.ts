/**
 * The core runs in a Web Worker and in Node: checked on the TypeScript program itself (imports static
 * and dynamic, resolved globals), not by patterns (test/support/platform-neutral.ts says what counts).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, REPO_TSCONFIG, checkPlatformNeutral } from '../../../test/support/platform-neutral';

function sources(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name) ? [path] : [];
  });
}

/**
 * Packages the core may import: each runs in a browser worker and in Node. Node-only dependencies
 * (onnxruntime-node, commander) belong to the CLI's own package, cli/.
 */
const BROWSER_SAFE_PACKAGES = [
  'dcmjs',
  'dicom-parser',
  'fflate',
  'jpeg-lossless-decoder-js',
  'onnxruntime-web',
  '@cornerstonejs/codec-charls',
  '@cornerstonejs/codec-openjpeg',
  '@cornerstonejs/codec-libjpeg-turbo-8bit',
];

test('the core imports no Node built-in, no Node-only package, nothing outside itself, and uses no Node or DOM-only global', () => {
  const problems = checkPlatformNeutral({
    root: __dirname,
    files: sources(__dirname),
    allowedPackages: BROWSER_SAFE_PACKAGES,
    tsconfig: REPO_TSCONFIG,
  });
  expect(problems.map((p) => `${p.file}:${p.line} ${p.what}`)).toEqual([]);
});

test("the OHIF plugin's package depends only on packages that run in the browser (Node-only ones live in cli/)", () => {
  const extensionPackage = JSON.parse(readFileSync(join(REPO_ROOT, 'extension', 'package.json'), 'utf8'));
  expect(Object.keys(extensionPackage.dependencies).filter((name) => !BROWSER_SAFE_PACKAGES.includes(name))).toEqual([]);
  expect(extensionPackage.bin).toBeUndefined();
});

test('the check finds each kind of violation (the fixture marks every line it must report)', () => {
  const fixtureDir = join(REPO_ROOT, 'test/fixtures/platform-neutral');
  const fixture = join(fixtureDir, 'violations.ts');
  const expected = readFileSync(fixture, 'utf8')
    .split('\n')
    .flatMap((line, index) => {
      const match = /\/\/ expect: (.*)$/.exec(line);
      return match ? [{ line: index + 1, what: match[1] }] : [];
    });
  expect(expected.length).toBeGreaterThanOrEqual(10);
  const problems = checkPlatformNeutral({ root: fixtureDir, files: [fixture], allowedPackages: BROWSER_SAFE_PACKAGES, tsconfig: REPO_TSCONFIG });
  for (const { line, what } of expected) {
    expect(problems.filter((p) => p.line === line).map((p) => p.what).join(' | ')).toContain(what);
  }
  // Nothing else: the type-only import, the object's own `process`/`document` keys and `performance` pass.
  expect(problems).toHaveLength(expected.length);
});
