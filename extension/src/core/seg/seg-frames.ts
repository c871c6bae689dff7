/**
 * Decoded frames of a SEG's pixel data, one byte per pixel, whatever the transfer syntax.
 *
 * BINARY (BitsAllocated 1): native pixel data is one bit stream packed continuously across frames;
 * RLE and Deflated Image Frame Compression pack each frame on its own from bit 0 of a byte (as
 * pydicom and dcmqi write them); JPEG 2000 codes one sample (0/1) per pixel. FRACTIONAL
 * (BitsAllocated 8): one byte per pixel. dcmjs has already undone Explicit Big Endian and Deflated
 * Explicit VR Little Endian by the time the dataset reaches here.
 */
import { inflateSync } from 'fflate';
import { RtLiverError } from '../errors';
import { decodeRleFrame } from '../dicom/codecs/rle';
import { decodeWithWasmCodec, type WasmCodecName } from '../dicom/codecs/wasm-codecs';
import { unpackAlignedFrame, unpackFrame } from './bit-packing';

const NATIVE = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99']);
const RLE = '1.2.840.10008.1.2.5';
const DEFLATED_IMAGE_FRAME = '1.2.840.10008.1.2.8.1';
const WASM_CODEC_OF: Record<string, WasmCodecName> = {
  '1.2.840.10008.1.2.4.90': 'openjpeg',
  '1.2.840.10008.1.2.4.91': 'openjpeg',
  '1.2.840.10008.1.2.4.201': 'openjpeg',
  '1.2.840.10008.1.2.4.202': 'openjpeg',
  '1.2.840.10008.1.2.4.203': 'openjpeg',
  '1.2.840.10008.1.2.4.80': 'charls',
  '1.2.840.10008.1.2.4.81': 'charls',
};

export interface SegPixelLayout {
  transferSyntaxUID: string;
  rows: number;
  columns: number;
  frameCount: number;
  bitsAllocated: number;
  /** dcmjs' PixelData: one buffer (native) or one per frame (encapsulated). */
  pixelData: ArrayBuffer[];
}

/** Frame `index` (0-based) as one byte per pixel: 0/1 for BINARY, 0..MaximumFractionalValue for FRACTIONAL. */
export type FrameDecoder = (index: number) => Promise<Uint8Array>;

export function frameDecoder(layout: SegPixelLayout): FrameDecoder {
  const { transferSyntaxUID, rows, columns, frameCount, bitsAllocated, pixelData } = layout;
  const pixels = rows * columns;
  if (bitsAllocated !== 1 && bitsAllocated !== 8) {
    throw new RtLiverError('SEG_UNSUPPORTED', `The SEG has BitsAllocated ${bitsAllocated}.`, 'BINARY SEG has 1, FRACTIONAL SEG 8.');
  }
  if (NATIVE.has(transferSyntaxUID)) {
    const stream = concatenate(pixelData);
    const needed = bitsAllocated === 1 ? Math.ceil((frameCount * pixels) / 8) : frameCount * pixels;
    if (stream.byteLength < needed) {
      throw new RtLiverError(
        'SEG_TRUNCATED',
        `The SEG's pixel data holds ${stream.byteLength} bytes; ${frameCount} frames of ${columns}x${rows} need ${needed}.`,
        'The file is truncated or its NumberOfFrames is wrong.',
      );
    }
    return async (index) =>
      bitsAllocated === 1 ? unpackFrame(stream, index, pixels) : stream.slice(index * pixels, (index + 1) * pixels);
  }

  const frames = encapsulatedFrames(pixelData, frameCount);
  const fromFrameBytes = (bytes: Uint8Array, index: number): Uint8Array => {
    if (bitsAllocated === 1 && bytes.byteLength < pixels) return unpackAlignedFrame(bytes, pixels);
    if (bytes.byteLength < pixels) {
      throw new RtLiverError('SEG_TRUNCATED', `SEG frame ${index + 1} decodes to ${bytes.byteLength} bytes, fewer than its ${pixels} pixels.`, 'The file is damaged.');
    }
    return bytes.subarray(0, pixels);
  };
  if (transferSyntaxUID === RLE) {
    return async (index) => fromFrameBytes(decodeRle(frames[index], pixels, bitsAllocated), index);
  }
  if (transferSyntaxUID === DEFLATED_IMAGE_FRAME) {
    return async (index) => fromFrameBytes(inflateSync(frames[index]), index);
  }
  const codec = WASM_CODEC_OF[transferSyntaxUID];
  if (codec) {
    return async (index) => {
      const decoded = await decodeWithWasmCodec(codec, frames[index]);
      if (decoded.width !== columns || decoded.height !== rows) {
        throw new RtLiverError('SEG_UNSUPPORTED', `SEG frame ${index + 1} decodes to ${decoded.width}x${decoded.height}, not ${columns}x${rows}.`, 'The file is damaged.');
      }
      return fromFrameBytes(decoded.bytes, index);
    };
  }
  throw new RtLiverError(
    'SEG_UNSUPPORTED',
    `The SEG uses transfer syntax ${transferSyntaxUID}, which this reader does not decode.`,
    'Convert it to Explicit VR Little Endian (e.g. `dcmconv +te in.dcm out.dcm`).',
  );
}

/**
 * RLE of a BINARY frame: a byte per pixel by some writers, the frame's packed bits by others (pydicom).
 * Try a byte per pixel first; a segment too short for that holds packed bits.
 */
function decodeRle(frame: Uint8Array, pixels: number, bitsAllocated: number): Uint8Array {
  if (bitsAllocated === 8) return decodeRleFrame(frame, 1, pixels, 8);
  try {
    return decodeRleFrame(frame, 1, pixels, 8);
  } catch {
    return decodeRleFrame(frame, 1, Math.ceil(pixels / 8), 8);
  }
}

function encapsulatedFrames(pixelData: ArrayBuffer[], frameCount: number): Uint8Array[] {
  if (pixelData.length === frameCount) return pixelData.map((buffer) => new Uint8Array(buffer));
  if (frameCount === 1) return [concatenate(pixelData)];
  throw new RtLiverError(
    'SEG_UNSUPPORTED',
    `The SEG's encapsulated pixel data has ${pixelData.length} fragments for ${frameCount} frames and no usable offset table.`,
    'Convert it to Explicit VR Little Endian (e.g. `dcmconv +te in.dcm out.dcm`).',
  );
}

function concatenate(buffers: ArrayBuffer[]): Uint8Array {
  if (buffers.length === 1) return new Uint8Array(buffers[0]);
  const total = buffers.reduce((sum, buffer) => sum + buffer.byteLength, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const buffer of buffers) {
    joined.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  return joined;
}
