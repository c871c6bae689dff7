/**
 * Builds rt-liver's two OHIF runtime plugins as ES modules into dist/plugins/:
 *   rt-liver-extension.js  (extension/src/index.tsx)
 *   rt-liver-mode.js       (modes/realtime-liver/src/index.ts)
 * OHIF loads them with import(url) (see extension/src/plugins.ts). OHIF's own prebuilt dist is not
 * part of this build: scripts/server serves it as it is from node_modules (minifying its 200 MB
 * again would cost minutes and gigabytes, see ../shared/docs/FINDINGS.md).
 *
 * React and Cornerstone3D come from the host at run time (extension/src/host/): any import of
 * them resolves to nothing here, so a second copy can never be bundled by accident.
 *
 * The segmentation Web Worker (extension/src/core/model/segmentation-worker.ts, started with
 * `new Worker(new URL(...), { type: 'module' })` in extension/src/viewer/) becomes a chunk of its own
 * with onnxruntime-web in it. onnxruntime-web is resolved to its "extern wasm" build: its .wasm and
 * .mjs runtime files are not bundled but loaded from /rt-liver/ort/ (the server serves
 * node_modules/onnxruntime-web/dist there), where the worker's `wasmPaths` points.
 */
const path = require('node:path');
const { EXTENSION_PLUGIN_FILE, MODE_PLUGIN_FILE } = { EXTENSION_PLUGIN_FILE: 'rt-liver-extension.js', MODE_PLUGIN_FILE: 'rt-liver-mode.js' };

module.exports = (env = {}, argv = {}) => {
  const mode = argv.mode ?? 'production';
  return {
    mode,
    target: 'web',
    entry: {
      [EXTENSION_PLUGIN_FILE.replace(/\.js$/, '')]: './extension/src/index.tsx',
      [MODE_PLUGIN_FILE.replace(/\.js$/, '')]: './modes/realtime-liver/src/index.ts',
    },
    output: {
      path: path.resolve(__dirname, 'dist/plugins'),
      filename: '[name].js',
      chunkFilename: 'chunks/[name].[contenthash:8].js',
      publicPath: '/plugins/',
      module: true,
      chunkFormat: 'module',
      chunkLoading: 'import',
      library: { type: 'module' },
      clean: true,
    },
    experiments: { outputModule: true },
    resolve: {
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'],
      conditionNames: ['onnxruntime-web-use-extern-wasm', 'import', 'module', 'browser', 'default'],
      alias: {
        react: false,
        'react-dom': false,
        '@cornerstonejs/core': false,
        '@cornerstonejs/tools': false,
      },
    },
    module: {
      rules: [
        {
          test: /\.tsx?$/,
          exclude: /node_modules/,
          use: {
            loader: 'swc-loader',
            options: { jsc: { parser: { syntax: 'typescript', tsx: true }, target: 'es2022' } },
          },
        },
      ],
    },
    devtool: 'source-map',
    performance: { hints: false },
    stats: 'errors-warnings',
  };
};
