#!/usr/bin/env node
/**
 * rt-liver command. Runs the CLI (extension/src/cli, TypeScript) from an esbuild bundle in
 * extension/dist/cli/, built on first use and again whenever a source under src/core or src/cli is
 * newer than it. Starting from a bundle takes ~100 ms less than compiling TypeScript on every start,
 * and startup counts against the 1.5 s target of `rt-liver segment`.
 *
 * npm packages stay outside the bundle (loaded from node_modules): onnxruntime's native addon and
 * WASM files must be found next to their own modules.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');

const packageRoot = path.resolve(__dirname, '..');
const sourceDirs = [path.join(packageRoot, 'src', 'core'), path.join(packageRoot, 'src', 'cli')];
const entry = path.join(packageRoot, 'src', 'cli', 'main.ts');
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Newest modification time of the TypeScript sources (and package.json, for the version). */
function newestSourceTime() {
  let newest = fs.statSync(path.join(packageRoot, 'package.json')).mtimeMs;
  const walk = (dir) => {
    for (const item of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, item.name);
      if (item.isDirectory()) walk(full);
      else if (/\.(ts|tsx|json|js|cjs|mjs)$/.test(item.name) && !/\.test\.ts$/.test(item.name)) {
        newest = Math.max(newest, fs.statSync(full).mtimeMs);
      }
    }
  };
  sourceDirs.forEach(walk);
  return newest;
}

function build(outfile) {
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  // Build beside the target and rename: a concurrent start never loads a half-written bundle.
  const temporary = `${outfile}.${process.pid}.tmp`;
  require('esbuild').buildSync({
    entryPoints: [entry],
    outfile: temporary,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  fs.renameSync(temporary, outfile);
}

/** Path of an up-to-date bundle, building it when missing or stale. */
function bundle() {
  const candidates = [
    path.join(packageRoot, 'dist', 'cli', 'rt-liver.cjs'),
    path.join(os.tmpdir(), `rt-liver-cli-${Buffer.from(packageRoot).toString('hex').slice(-24)}`, 'rt-liver.cjs'),
  ];
  const sources = newestSourceTime();
  for (const outfile of candidates) {
    try {
      if (fs.existsSync(outfile) && fs.statSync(outfile).mtimeMs >= sources) return outfile;
      build(outfile);
      return outfile;
    } catch (error) {
      if (error && (error.code === 'EACCES' || error.code === 'EROFS')) continue; // read-only install: next place
      throw error;
    }
  }
  throw new Error('rt-liver: cannot write the CLI bundle anywhere (extension/dist and the temp folder are read-only).');
}

/**
 * onnxruntime-node's WebGPU EP needs a Vulkan driver. Without a GPU, Debian's Chromium ships one
 * (SwiftShader), but the dynamic loader only honours LD_LIBRARY_PATH set before the process starts:
 * so re-run ourselves with it when WebGPU is asked for.
 */
function needsWebGpuEnvironment(args) {
  const asksWebGpu = args.some(
    (arg, index) => /webgpu/.test(arg) && (/^--backends?=/.test(arg) || (index > 0 && /^--backends?$/.test(args[index - 1]))),
  );
  return (
    asksWebGpu &&
    !process.env.RT_LIVER_WEBGPU_ENV &&
    !process.env.VK_ICD_FILENAMES &&
    fs.existsSync(SWIFTSHADER_ICD)
  );
}

const args = process.argv.slice(2);
if (needsWebGpuEnvironment(args)) {
  const { spawnSync } = require('node:child_process');
  const env = {
    ...process.env,
    RT_LIVER_WEBGPU_ENV: '1',
    LD_LIBRARY_PATH: ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    VK_ICD_FILENAMES: SWIFTSHADER_ICD,
  };
  const child = spawnSync(process.execPath, [__filename, ...args], { stdio: 'inherit', env });
  process.exit(child.status === null ? 1 : child.status);
}

// The bundle may live in the temp folder (read-only install): tell it where the repository's pieces are.
process.env.RT_LIVER_MODELS = process.env.RT_LIVER_MODELS || path.join(packageRoot, '..', 'models');
process.env.RT_LIVER_BIN = __filename;

let cli;
try {
  cli = require(bundle());
} catch (error) {
  process.stderr.write(`rt-liver: could not build or load the CLI: ${error && error.message ? error.message : error}\n` +
    'Run scripts/setup.sh (it installs esbuild and the other npm packages), then try again.\n');
  process.exit(1);
}
cli.main(process.argv).then((code) => {
  // onnxruntime-web keeps worker threads alive: leave explicitly once the work is done.
  process.exit(code);
});
