export { loadInput, isNiftiPath, type LoadedInput, type LoadInputOptions, type InputTimings } from './load-input';
export { readInputFiles, listInputFiles, listFilesRecursively, readBytes } from './read-files';
export { configureNodeWasmCodecs, nodeWasmPath } from './node-wasm';
