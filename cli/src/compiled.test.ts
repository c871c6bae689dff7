/**
 * The rt-liver command runs the JavaScript that set-up compiles (cli/dist/rt-liver.cjs): neither
 * esbuild nor tsx nor TypeScript (dev dependencies) is loaded when it starts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import packageJson from '../package.json';

const CLI_ROOT = join(__dirname, '..');
const BIN = join(CLI_ROOT, 'bin', 'rt-liver.cjs');
const DEV_ONLY = /^(esbuild|tsx|typescript|@swc\/)/;

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'rt-liver-compiled-'));
  // What `npm run build:cli` (scripts/setup.sh) does.
  const built = spawnSync(process.execPath, [join(CLI_ROOT, 'build.cjs')], { encoding: 'utf8' });
  expect(built.stderr).toBe('');
  expect(built.status).toBe(0);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test('once built, `rt-liver --version` and `--help` load no dev dependency', () => {
  const hook = join(scratch, 'refuse-dev-dependencies.cjs');
  writeFileSync(
    hook,
    `const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (${DEV_ONLY}.test(request)) throw new Error('dev dependency loaded at run time: ' + request);
  return load.call(this, request, ...rest);
};
`,
  );
  const version = spawnSync(process.execPath, ['--require', hook, BIN, '--version'], { encoding: 'utf8' });
  expect(version.stderr).toBe('');
  expect(version.stdout.trim()).toBe(packageJson.version);
  const help = spawnSync(process.execPath, ['--require', hook, BIN, '--help'], { encoding: 'utf8' });
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('segment [options] <input>');
});

test('the hook does refuse a dev dependency (so the test above can fail)', () => {
  const hook = join(scratch, 'refuse-dev-dependencies.cjs');
  const run = spawnSync(process.execPath, ['--require', hook, '-e', "require('esbuild')"], { encoding: 'utf8' });
  expect(run.status).not.toBe(0);
  expect(run.stderr).toContain('dev dependency loaded at run time: esbuild');
});
