/**
 * The CT files a SEG refers to, read for the SEG writer: each file once. The slices of an Enhanced
 * (multi-frame) CT all name the same file, which used to be read once per frame (a 79-frame CT took
 * 3.3 GB at the peak).
 */
import { join } from 'node:path';
import { readBytes } from './io';

export function readSegSourceFiles(folder: string, fileNames: readonly string[], read: (path: string) => Uint8Array = readBytes): ArrayBuffer[] {
  return [...new Set(fileNames)].map((name) => {
    const bytes = read(join(folder, name));
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return (whole ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer;
  });
}
