#!/usr/bin/env node
/**
 * rt-liver command. Runs the CLI compiled to JavaScript (cli/dist/rt-liver.cjs, built by
 * scripts/setup.sh through `npm run build:cli`, see cli/build.cjs): nothing is compiled at run time,
 * so no dev dependency is needed to run it. Starting from a bundle also takes ~100 ms less than
 * compiling TypeScript on every start, and startup counts against the 1.5 s target of `rt-liver segment`.
 *
 * In a checkout where a source is newer than the bundle (someone edited the CLI or the core), the
 * bundle is rebuilt first when esbuild is installed, so a run never uses stale code by surprise.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { OUTFILE, build, newestSourceTime } = require('../build.cjs');

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

function canBuild() {
  try {
    require.resolve('esbuild');
    return true;
  } catch {
    return false;
  }
}

/** Path of the compiled CLI; rebuilt when stale and esbuild is at hand. */
function bundle() {
  const exists = fs.existsSync(OUTFILE);
  const stale = exists && fs.statSync(OUTFILE).mtimeMs < newestSourceTime();
  if (exists && !stale) return OUTFILE;
  if (canBuild()) {
    try {
      return build();
    } catch (error) {
      // A read-only install whose sources look newer (copied without times): the build it has will do.
      if (exists && error && (error.code === 'EACCES' || error.code === 'EROFS')) return OUTFILE;
      throw error;
    }
  }
  if (exists) return OUTFILE;
  throw new Error(`${path.relative(process.cwd(), OUTFILE) || OUTFILE} is missing.`);
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

// Tell the CLI where the repository's models are (cli/ sits at the repository root).
process.env.RT_LIVER_MODELS = process.env.RT_LIVER_MODELS || path.join(__dirname, '..', '..', 'models');
process.env.RT_LIVER_BIN = __filename;

let cli;
try {
  cli = require(bundle());
} catch (error) {
  process.stderr.write(`rt-liver: could not build or load the CLI: ${error && error.message ? error.message : error}\n` +
    'Run `bash scripts/setup.sh` (it installs the npm packages and compiles the CLI with `npm run build:cli`), then try again.\n');
  process.exit(1);
}
cli.main(process.argv).then((code) => {
  // onnxruntime-web keeps worker threads alive: leave explicitly once the work is done.
  process.exit(code);
});
