#!/usr/bin/env node
/**
 * Compiles the rt-liver CLI (cli/src, TypeScript, with the platform-neutral core it imports and
 * synthetic/ for `bench`) into one CommonJS file, cli/dist/rt-liver.cjs, that Node runs directly.
 * Run by scripts/setup.sh (`npm run build:cli`); esbuild is a build-time (dev) dependency only.
 *
 * npm packages stay outside the bundle (loaded from node_modules at run time, hence the CLI's
 * `dependencies`): onnxruntime's native addon and the codecs' WASM files must be found next to their
 * own modules.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const CLI_ROOT = __dirname;
const REPO_ROOT = path.join(CLI_ROOT, '..');
const ENTRY = path.join(CLI_ROOT, 'src', 'main.ts');
const OUTFILE = path.join(CLI_ROOT, 'dist', 'rt-liver.cjs');
/** Everything the bundle is compiled from: a newer file here means the bundle is stale. */
const SOURCE_DIRS = [path.join(CLI_ROOT, 'src'), path.join(REPO_ROOT, 'extension', 'src', 'core'), path.join(REPO_ROOT, 'synthetic')];
const SOURCE_FILES = [path.join(CLI_ROOT, 'package.json')];

/** Newest modification time of the sources the bundle is compiled from (0 when none is present). */
function newestSourceTime() {
  let newest = 0;
  const walk = (dir) => {
    for (const item of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, item.name);
      if (item.isDirectory()) walk(full);
      else if (/\.(ts|tsx|json|js|cjs|mjs)$/.test(item.name) && !/\.test\.ts$/.test(item.name)) {
        newest = Math.max(newest, fs.statSync(full).mtimeMs);
      }
    }
  };
  for (const dir of SOURCE_DIRS) if (fs.existsSync(dir)) walk(dir);
  for (const file of SOURCE_FILES) if (fs.existsSync(file)) newest = Math.max(newest, fs.statSync(file).mtimeMs);
  return newest;
}

function build(outfile = OUTFILE) {
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  // Build beside the target and rename: a concurrent start never loads a half-written bundle.
  const temporary = `${outfile}.${process.pid}.tmp`;
  require('esbuild').buildSync({
    entryPoints: [ENTRY],
    outfile: temporary,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  fs.renameSync(temporary, outfile);
  return outfile;
}

module.exports = { OUTFILE, build, newestSourceTime };

if (require.main === module) {
  build();
  process.stdout.write(`built ${path.relative(REPO_ROOT, OUTFILE)}\n`);
}
