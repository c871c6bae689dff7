// The Cornerstone codec packages ship Emscripten glue without typings; wasm-codecs.ts types what it uses.
declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: (options: Record<string, unknown>) => Promise<unknown>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: (options: Record<string, unknown>) => Promise<unknown>;
  export default factory;
}
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  const factory: (options: Record<string, unknown>) => Promise<unknown>;
  export default factory;
}
// jpeg-lossless-decoder-js 2.1.2 names a typings file it does not ship.
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    decode(buffer: ArrayBuffer, offset: number, length: number, numBytes: number): ArrayBufferView;
  }
}
