/**
 * Where the Cornerstone decoder .wasm files are when running in Node: resolved through the packages'
 * export maps, and handed to the core as bytes (no reliance on Emscripten's own path guessing).
 */
import { readFileSync } from 'node:fs';
import { configureWasmCodecs, type WasmCodecName } from '../../../extension/src/core/dicom';

const WASM_SPECIFIERS: Record<WasmCodecName, string> = {
  charls: '@cornerstonejs/codec-charls/decodewasm',
  openjpeg: '@cornerstonejs/codec-openjpeg/decodewasm',
  'libjpeg-turbo-8bit': '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm',
};

export function nodeWasmPath(codec: WasmCodecName): string {
  return require.resolve(WASM_SPECIFIERS[codec]);
}

let configured = false;

/** Idempotent: the CLI and tests call it before reading DICOM. */
export function configureNodeWasmCodecs(): void {
  if (configured) return;
  configureWasmCodecs((codec) => {
    const bytes = readFileSync(nodeWasmPath(codec));
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  });
  configured = true;
}
