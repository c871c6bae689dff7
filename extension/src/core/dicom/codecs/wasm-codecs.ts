/**
 * The Cornerstone WASM decoders (CharLS for JPEG-LS, OpenJPEG for JPEG 2000, libjpeg-turbo for 8-bit
 * baseline JPEG). Each is an Emscripten module loaded on first use and kept.
 *
 * Where the .wasm file is must be said explicitly by the host: a URL in a browser or worker (bundlers
 * move files, and Emscripten's own guess is the script's folder), a path in Node, or the bytes
 * themselves. `configureWasmCodecs` is called once at start-up (the CLI does it through
 * `nodeWasmLocator` in cli/io; the browser worker with the URLs its bundle emits).
 */
export type WasmCodecName = 'charls' | 'openjpeg' | 'libjpeg-turbo-8bit';

/** File names of the decoder builds, as shipped in the @cornerstonejs/codec-* packages. */
export const WASM_FILES: Record<WasmCodecName, string> = {
  charls: 'charlswasm_decode.wasm',
  openjpeg: 'openjpegwasm_decode.wasm',
  'libjpeg-turbo-8bit': 'libjpegturbowasm_decode.wasm',
};

/** A URL or file path to pass to Emscripten, or the .wasm bytes. */
export type WasmSource = string | ArrayBuffer | Uint8Array;
export type WasmLocator = (codec: WasmCodecName, fileName: string) => WasmSource | Promise<WasmSource>;

let locator: WasmLocator | undefined;
const loaded = new Map<WasmCodecName, Promise<EmscriptenDecoderModule>>();

export function configureWasmCodecs(wasmLocator: WasmLocator): void {
  locator = wasmLocator;
  loaded.clear();
}

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
}

interface EmscriptenDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete?(): void;
}

interface EmscriptenDecoderModule {
  JpegLSDecoder?: new () => EmscriptenDecoder;
  J2KDecoder?: new () => EmscriptenDecoder;
  JPEGDecoder?: new () => EmscriptenDecoder;
}

type EmscriptenFactory = (options: Record<string, unknown>) => Promise<EmscriptenDecoderModule>;

async function importFactory(codec: WasmCodecName): Promise<EmscriptenFactory> {
  // Literal specifiers so bundlers see (and split out) each decoder.
  switch (codec) {
    case 'charls':
      return defaultExport(await import('@cornerstonejs/codec-charls/decodewasmjs'));
    case 'openjpeg':
      return defaultExport(await import('@cornerstonejs/codec-openjpeg/decodewasmjs'));
    case 'libjpeg-turbo-8bit':
      return defaultExport(await import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs'));
  }
}

function defaultExport(module: unknown): EmscriptenFactory {
  const candidate = (module as { default?: unknown }).default ?? module;
  return candidate as EmscriptenFactory;
}

async function loadModule(codec: WasmCodecName): Promise<EmscriptenDecoderModule> {
  let pending = loaded.get(codec);
  if (!pending) {
    pending = (async () => {
      const factory = await importFactory(codec);
      const fileName = WASM_FILES[codec];
      const source = locator ? await locator(codec, fileName) : undefined;
      // The decoders chatter on stdout ([INFO] lines from OpenJPEG); failures reach us as exceptions.
      const options: Record<string, unknown> = { print: () => undefined, printErr: () => undefined };
      if (typeof source === 'string') {
        options.locateFile = (path: string, prefix: string) => (path.endsWith('.wasm') ? source : prefix + path);
      } else if (source) {
        options.wasmBinary = source instanceof Uint8Array ? source : new Uint8Array(source);
      }
      return factory(options);
    })();
    pending.catch(() => loaded.delete(codec));
    loaded.set(codec, pending);
  }
  return pending;
}

export interface DecodedFrame {
  /** Little-endian sample bytes, copied out of WASM memory. */
  bytes: Uint8Array;
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
}

const DECODER_CLASS: Record<WasmCodecName, keyof EmscriptenDecoderModule> = {
  charls: 'JpegLSDecoder',
  openjpeg: 'J2KDecoder',
  'libjpeg-turbo-8bit': 'JPEGDecoder',
};

export async function decodeWithWasmCodec(codec: WasmCodecName, encoded: Uint8Array): Promise<DecodedFrame> {
  const module = await loadModule(codec);
  const Decoder = module[DECODER_CLASS[codec]];
  if (!Decoder) throw new Error(`The ${codec} module has no ${DECODER_CLASS[codec]}`);
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
    const info = decoder.getFrameInfo();
    const bytes = decoder.getDecodedBuffer().slice();
    return { bytes, width: info.width, height: info.height, bitsPerSample: info.bitsPerSample, componentCount: info.componentCount };
  } catch (error) {
    // Emscripten throws numbers (pointers) for C++ exceptions; make them readable.
    throw new Error(`${codec} could not decode the frame: ${typeof error === 'number' ? `native exception ${error}` : String(error)}`);
  } finally {
    decoder.delete?.();
  }
}
