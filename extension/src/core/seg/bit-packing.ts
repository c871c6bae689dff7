/**
 * BINARY SEG pixel data: one bit per pixel, frames concatenated and packed *continuously*, least
 * significant bit first (PS3.5 8.1.1). Frame f's pixel p is bit f * rows * columns + p of the whole
 * stream, so a frame starts mid-byte whenever rows * columns is not a multiple of 8.
 */
import type { FrameSampling } from './frame-mapping';

export interface PackedFrames {
  /** Packed bits, padded with zeros to an even length (OB values have even length). */
  bytes: Uint8Array;
  /** The samplings whose frames hold at least one set pixel, in the order they were packed. */
  frames: FrameSampling[];
}

/**
 * Packs the frames that contain mask voxels (any non-zero value), skipping empty ones. One pass over
 * the mask; frames are read through their sampling, so any volume axis order works.
 */
export function packNonEmptyFrames(mask: Uint8Array, samplings: FrameSampling[], rows: number, columns: number): PackedFrames {
  const pixelsPerFrame = rows * columns;
  const capacity = Math.ceil((samplings.length * pixelsPerFrame) / 8);
  const bytes = new Uint8Array(capacity + (capacity % 2));
  // Most of a mask is zero: where rows are contiguous in memory, test 4 voxels at a time.
  const words = mask.byteOffset % 4 === 0 ? new Uint32Array(mask.buffer, mask.byteOffset, mask.byteLength >>> 2) : undefined;
  const frames: FrameSampling[] = [];
  for (const sampling of samplings) {
    // An empty frame sets no bit, so packing at the next free position and not advancing is enough.
    const firstBit = frames.length * pixelsPerFrame;
    let any = false;
    for (let row = 0; row < rows; row++) {
      const rowStart = sampling.base + row * sampling.rowStride;
      const rowBit = firstBit + row * columns;
      const found =
        sampling.columnStride === 1 && words
          ? packContiguousRow(mask, words, rowStart, columns, bytes, rowBit)
          : packStridedRow(mask, rowStart, sampling.columnStride, columns, bytes, rowBit);
      any = any || found;
    }
    if (any) frames.push(sampling);
  }
  const used = Math.ceil((frames.length * pixelsPerFrame) / 8);
  return { bytes: bytes.subarray(0, used + (used % 2)), frames };
}

function packStridedRow(mask: Uint8Array, start: number, stride: number, columns: number, bytes: Uint8Array, rowBit: number): boolean {
  let any = false;
  for (let column = 0, voxel = start; column < columns; column++, voxel += stride) {
    if (mask[voxel] !== 0) {
      const bit = rowBit + column;
      bytes[bit >>> 3] |= 1 << (bit & 7);
      any = true;
    }
  }
  return any;
}

function packContiguousRow(mask: Uint8Array, words: Uint32Array, start: number, columns: number, bytes: Uint8Array, rowBit: number): boolean {
  let any = false;
  let column = 0;
  // Byte by byte up to a 4-byte boundary, then whole zero words skipped, then the tail.
  const wordStart = Math.min(columns, (4 - (start & 3)) & 3);
  for (; column < wordStart; column++) any = packOne(mask[start + column], rowBit + column, bytes) || any;
  for (; column + 4 <= columns; column += 4) {
    if (words[(start + column) >>> 2] === 0) continue;
    for (let offset = 0; offset < 4; offset++) any = packOne(mask[start + column + offset], rowBit + column + offset, bytes) || any;
  }
  for (; column < columns; column++) any = packOne(mask[start + column], rowBit + column, bytes) || any;
  return any;
}

function packOne(value: number, bit: number, bytes: Uint8Array): boolean {
  if (value === 0) return false;
  bytes[bit >>> 3] |= 1 << (bit & 7);
  return true;
}

/** Frame `frameIndex` of a continuously packed stream, unpacked to one byte (0/1) per pixel. */
export function unpackFrame(packed: Uint8Array, frameIndex: number, pixelsPerFrame: number): Uint8Array {
  const frame = new Uint8Array(pixelsPerFrame);
  const firstBit = frameIndex * pixelsPerFrame;
  for (let pixel = 0; pixel < pixelsPerFrame; pixel++) {
    const bit = firstBit + pixel;
    frame[pixel] = (packed[bit >>> 3] >>> (bit & 7)) & 1;
  }
  return frame;
}

/** A frame packed on its own, starting at bit 0 of its first byte (compressed transfer syntaxes do this). */
export function unpackAlignedFrame(packed: Uint8Array, pixelsPerFrame: number): Uint8Array {
  return unpackFrame(packed, 0, pixelsPerFrame);
}
