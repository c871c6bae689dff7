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
  const frames: FrameSampling[] = [];
  for (const sampling of samplings) {
    // An empty frame sets no bit, so packing at the next free position and not advancing is enough.
    const firstBit = frames.length * pixelsPerFrame;
    let any = false;
    for (let row = 0; row < rows; row++) {
      const rowStart = sampling.base + row * sampling.rowStride;
      const rowBit = firstBit + row * columns;
      const stride = sampling.columnStride;
      for (let column = 0, voxel = rowStart; column < columns; column++, voxel += stride) {
        if (mask[voxel] !== 0) {
          const bit = rowBit + column;
          bytes[bit >>> 3] |= 1 << (bit & 7);
          any = true;
        }
      }
    }
    if (any) frames.push(sampling);
  }
  const used = Math.ceil((frames.length * pixelsPerFrame) / 8);
  return { bytes: bytes.subarray(0, used + (used % 2)), frames };
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
