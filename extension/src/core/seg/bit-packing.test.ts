import { packNonEmptyFrames, unpackFrame } from './bit-packing';
import type { FrameSampling } from './frame-mapping';

/** Samplings of a volume whose planes are contiguous frames (axial, ascending). */
function axialSamplings(rows: number, columns: number, planes: number): FrameSampling[] {
  return Array.from({ length: planes }, (_, k) => ({
    base: k * rows * columns,
    columnStride: 1,
    rowStride: columns,
    planeAxis: 2,
    planeIndex: k,
    instance: { sopInstanceUID: `1.${k}` } as FrameSampling['instance'],
  }));
}

describe('packNonEmptyFrames', () => {
  it('packs frames continuously when rows x columns is not a multiple of 8 (3x3 = 9 bits)', () => {
    const mask = new Uint8Array(27);
    mask[0] = 1; // frame 0, pixel 0 -> bit 0
    mask[9 + 8] = 1; // frame 1, last pixel -> bit 17
    mask[18] = 1; // frame 2, first pixel -> bit 18
    const { bytes, frames } = packNonEmptyFrames(mask, axialSamplings(3, 3, 3), 3, 3);
    expect(frames.map((frame) => frame.planeIndex)).toEqual([0, 1, 2]);
    expect(Array.from(bytes)).toEqual([0b00000001, 0b00000000, 0b00000110, 0b00000000]);
  });

  it('omits empty frames and packs the next one in their place', () => {
    const mask = new Uint8Array(27);
    mask[18 + 4] = 1; // only frame 2, centre pixel
    const { bytes, frames } = packNonEmptyFrames(mask, axialSamplings(3, 3, 3), 3, 3);
    expect(frames.map((frame) => frame.planeIndex)).toEqual([2]);
    expect(Array.from(bytes)).toEqual([0b00010000, 0]);
  });

  it('round-trips through unpackFrame for every frame of an odd 23x38 stack', () => {
    const rows = 38;
    const columns = 23;
    const mask = new Uint8Array(rows * columns * 4).map((_, index) => ((index * 2654435761) >>> 0) % 3 === 0 ? 1 : 0);
    const { bytes, frames } = packNonEmptyFrames(mask, axialSamplings(rows, columns, 4), rows, columns);
    expect(frames).toHaveLength(4);
    for (let frame = 0; frame < 4; frame++) {
      const expected = mask.subarray(frame * rows * columns, (frame + 1) * rows * columns);
      expect(Array.from(unpackFrame(bytes, frame, rows * columns))).toEqual(Array.from(expected));
    }
    expect(bytes.byteLength % 2).toBe(0);
  });
});
