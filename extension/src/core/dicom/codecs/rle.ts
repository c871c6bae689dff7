/**
 * DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, one PackBits segment per
 * byte plane, most significant plane first. Returns the frame as little-endian bytes.
 */
export function decodeRleFrame(frame: Uint8Array, rows: number, columns: number, bitsAllocated: number): Uint8Array {
  const pixelCount = rows * columns;
  const bytesPerPixel = bitsAllocated / 8;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segmentCount = view.getUint32(0, true);
  if (segmentCount !== bytesPerPixel) {
    throw new Error(`RLE frame has ${segmentCount} segments, expected ${bytesPerPixel} for ${bitsAllocated}-bit samples`);
  }
  const output = new Uint8Array(pixelCount * bytesPerPixel);
  for (let segment = 0; segment < segmentCount; segment++) {
    const start = view.getUint32(4 + 4 * segment, true);
    const end = segment + 1 < segmentCount ? view.getUint32(8 + 4 * segment, true) : frame.byteLength;
    // Segment 0 holds the most significant byte; in little-endian output that byte comes last.
    const byteInPixel = bytesPerPixel - 1 - segment;
    unpackBits(frame, start, end, output, byteInPixel, bytesPerPixel, pixelCount);
  }
  return output;
}

function unpackBits(
  input: Uint8Array,
  start: number,
  end: number,
  output: Uint8Array,
  firstOutput: number,
  outputStride: number,
  count: number,
): void {
  let inPos = start;
  let written = 0;
  let outPos = firstOutput;
  while (inPos < end && written < count) {
    const header = (input[inPos++] << 24) >> 24; // signed byte
    if (header >= 0) {
      // header + 1 literal bytes
      for (let n = 0; n <= header && written < count; n++, written++, outPos += outputStride) output[outPos] = input[inPos++];
    } else if (header !== -128) {
      // 1 - header copies of the next byte
      const value = input[inPos++];
      for (let n = 0; n < 1 - header && written < count; n++, written++, outPos += outputStride) output[outPos] = value;
    }
  }
  if (written < count) throw new Error(`RLE segment ended after ${written} of ${count} pixels`);
}
