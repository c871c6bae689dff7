/**
 * Test helper, run in a child process by backends.test.ts: runs one model on a raw float32 tensor with
 * one backend and prints the result as JSON. A child process because onnxruntime's native addon and
 * its WASM build do not work inside jest's module sandbox (typed arrays from another realm, dynamic
 * import()), and the WebGPU EP needs its library path set before Node starts.
 *
 *   node --import tsx backends.probe.ts <model-name> <backend> <input.f32.bin> <dims-json> <reference.f32.bin>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendChoice } from '../../extension/src/core/model/inference';
import { parseManifestText, selectModel } from '../../extension/src/core/model/manifest';
import { prepareModel } from '../../extension/src/core/model/pipeline';
import { nodeSessionFactory } from './backends';

const ROOT = join(__dirname, '..', '..');

function readFloat32(path: string): Float32Array {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

async function main(): Promise<void> {
  const [name, backend, inputPath, dimsJson, referencePath] = process.argv.slice(2);
  const manifest = parseManifestText(readFileSync(join(ROOT, 'models', 'manifest.json'), 'utf8'));
  const entry = selectModel(manifest, name);
  const bytes = new Uint8Array(readFileSync(join(ROOT, 'models', entry.file)));
  let model;
  try {
    model = await prepareModel(entry, bytes, backend as BackendChoice, nodeSessionFactory());
  } catch (error) {
    console.log(JSON.stringify({ unavailable: String((error as Error).message).split('\n')[0] }));
    return;
  }
  const logits = await model.session.run(readFloat32(inputPath), JSON.parse(dimsJson));
  const reference = readFloat32(referencePath);
  let worst = 0;
  for (let n = 0; n < reference.length; n++) worst = Math.max(worst, Math.abs(logits.data[n] - reference[n]));
  console.log(JSON.stringify({ backend: model.session.backend, dims: logits.dims, worst, warnings: model.session.warnings }));
  await model.session.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
