/**
 * Pixel Data of one frame to stored sample values (before rescale), for every transfer syntax in
 * transfer-syntax.ts. Native data is viewed in place when aligned; compressed frames go through the
 * matching decoder.
 */
import type { DataSet } from 'dicom-parser';
import { Decoder as JpegLosslessDecoder } from 'jpeg-lossless-decoder-js';
import { readEncapsulatedImageFrame, readEncapsulatedPixelDataFromFragments, createJPEGBasicOffsetTable } from 'dicom-parser';
import { RtLiverError } from '../errors';
import type { DicomInstance } from './instance';
import { decodeRleFrame } from './codecs/rle';
import { decodeWithWasmCodec, type WasmCodecName } from './codecs/wasm-codecs';
import { pixelEncodingOf, transferSyntaxName } from './transfer-syntax';

export type SampleArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

export async function decodeFrameSamples(instance: DicomInstance, frameIndex: number): Promise<SampleArray> {
  const { pixelData } = instance;
  if (!pixelData) {
    throw new RtLiverError('DICOM_NO_PIXEL_DATA', `${instance.fileName} has no Pixel Data.`, 'Re-export the series with its images.');
  }
  if (instance.samplesPerPixel !== 1) {
    throw new RtLiverError(
      'DICOM_NOT_GRAYSCALE',
      `${instance.fileName} has ${instance.samplesPerPixel} samples per pixel (${instance.photometricInterpretation}); CT images have one.`,
      'Use the original CT series, not a screenshot or secondary capture.',
    );
  }
  if (![8, 16, 32].includes(instance.bitsAllocated)) {
    throw new RtLiverError(
      'DICOM_UNSUPPORTED_BITS',
      `${instance.fileName} has ${instance.bitsAllocated} bits allocated; rt-liver reads 8, 16 or 32.`,
      'Convert the series to 16-bit (e.g. with dcmtk or gdcmconv).',
    );
  }
  const encoding = pixelEncodingOf(instance.transferSyntaxUID);
  if (!encoding) {
    throw new RtLiverError(
      'DICOM_UNSUPPORTED_TRANSFER_SYNTAX',
      `${instance.fileName} uses ${transferSyntaxName(instance.transferSyntaxUID)}, which rt-liver cannot decode.`,
      'Transcode the series to Explicit VR Little Endian (e.g. `dcmdjpeg` / `gdcmconv --raw`).',
    );
  }
  try {
    switch (encoding) {
      case 'native-le':
      case 'native-be':
        return readNativeFrame(instance, frameIndex, encoding === 'native-be');
      default:
        return await decodeEncapsulatedFrame(instance, frameIndex, encoding);
    }
  } catch (error) {
    if (error instanceof RtLiverError) throw error;
    throw new RtLiverError(
      'DICOM_PIXEL_DECODE_FAILED',
      `Could not decode the pixels of ${instance.fileName} (${transferSyntaxName(instance.transferSyntaxUID)}): ${error instanceof Error ? error.message : String(error)}.`,
      'The file may be damaged; re-export the series, or transcode it to Explicit VR Little Endian.',
      { cause: error },
    );
  }
}

/** The parsed data set holding the instance's Pixel Data, parsed again from its file when it was let go. */
function pixelDataSet(instance: DicomInstance): DataSet {
  const handle = instance.pixelData!;
  return handle.dataSet ?? handle.reload();
}

function frameSampleCount(instance: DicomInstance): number {
  return instance.rows * instance.columns;
}

function readNativeFrame(instance: DicomInstance, frameIndex: number, bigEndian: boolean): SampleArray {
  const dataSet = pixelDataSet(instance);
  const element = dataSet.elements.x7fe00010;
  const bytesPerSample = instance.bitsAllocated / 8;
  const frameBytes = frameSampleCount(instance) * bytesPerSample;
  const start = element.dataOffset + frameIndex * frameBytes;
  if (frameBytes * (frameIndex + 1) > element.length || start + frameBytes > dataSet.byteArray.length) {
    throw new RtLiverError(
      'DICOM_TRUNCATED_PIXEL_DATA',
      `${instance.fileName} holds ${element.length} bytes of Pixel Data, fewer than its ${instance.rows}x${instance.columns} ` +
        `${instance.bitsAllocated}-bit frame${instance.numberOfFrames > 1 ? 's' : ''} need.`,
      'The file is truncated; re-export or re-send the series.',
    );
  }
  let bytes = dataSet.byteArray.subarray(start, start + frameBytes);
  if (bigEndian && bytesPerSample > 1) {
    bytes = swapBytes(bytes, bytesPerSample);
  } else if ((bytes.byteOffset % bytesPerSample) !== 0) {
    bytes = bytes.slice(); // typed-array views need aligned offsets
  }
  return samplesView(bytes, instance.bitsAllocated, instance.pixelRepresentation === 1);
}

function swapBytes(bytes: Uint8Array, width: number): Uint8Array {
  const swapped = new Uint8Array(bytes.length);
  for (let offset = 0; offset < bytes.length; offset += width) {
    for (let b = 0; b < width; b++) swapped[offset + b] = bytes[offset + width - 1 - b];
  }
  return swapped;
}

/** Little-endian sample bytes as a typed array of stored values (shares memory with `bytes`). */
export function samplesView(bytes: Uint8Array, bitsAllocated: number, signed: boolean): SampleArray {
  const { buffer, byteOffset, byteLength } = bytes;
  if (bitsAllocated === 8) return signed ? new Int8Array(buffer, byteOffset, byteLength) : bytes;
  if (bitsAllocated === 16) return signed ? new Int16Array(buffer, byteOffset, byteLength / 2) : new Uint16Array(buffer, byteOffset, byteLength / 2);
  return signed ? new Int32Array(buffer, byteOffset, byteLength / 4) : new Uint32Array(buffer, byteOffset, byteLength / 4);
}

function encapsulatedFrameBytes(instance: DicomInstance, frameIndex: number, isJpegFamily: boolean): Uint8Array {
  const dataSet = pixelDataSet(instance);
  const element = dataSet.elements.x7fe00010;
  const fragments = element.fragments ?? [];
  if (fragments.length === 0) throw new Error('encapsulated Pixel Data without fragments');
  if (instance.numberOfFrames <= 1) {
    return readEncapsulatedPixelDataFromFragments(dataSet, element, 0, fragments.length) as Uint8Array;
  }
  const table = element.basicOffsetTable ?? [];
  if (table.length > 0) return readEncapsulatedImageFrame(dataSet, element, frameIndex) as Uint8Array;
  if (fragments.length === instance.numberOfFrames) {
    return readEncapsulatedPixelDataFromFragments(dataSet, element, frameIndex, 1) as Uint8Array;
  }
  if (isJpegFamily) {
    // No offset table and several fragments per frame: find frame starts by their JPEG SOI markers.
    return readEncapsulatedImageFrame(dataSet, element, frameIndex, createJPEGBasicOffsetTable(dataSet, element)) as Uint8Array;
  }
  throw new Error('multi-frame Pixel Data without a Basic Offset Table and with several fragments per frame');
}

async function decodeEncapsulatedFrame(instance: DicomInstance, frameIndex: number, encoding: string): Promise<SampleArray> {
  const signed = instance.pixelRepresentation === 1;
  const frame = encapsulatedFrameBytes(instance, frameIndex, encoding !== 'rle');
  if (encoding === 'rle') {
    return samplesView(decodeRleFrame(frame, instance.rows, instance.columns, instance.bitsAllocated), instance.bitsAllocated, signed);
  }
  if (encoding === 'jpeg-lossless') {
    const bytesPerSample = instance.bitsAllocated <= 8 ? 1 : 2;
    const copy = frame.slice(); // the decoder reads an ArrayBuffer from offset 0
    const decoded = new JpegLosslessDecoder().decode(copy.buffer, 0, copy.byteLength, bytesPerSample) as ArrayBufferView;
    const bytes = new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
    return checkSize(instance, samplesView(bytes, bytesPerSample * 8, signed));
  }
  const codec: WasmCodecName = encoding === 'jpeg-ls' ? 'charls' : encoding === 'jpeg-2000' ? 'openjpeg' : 'libjpeg-turbo-8bit';
  const decoded = await decodeWithWasmCodec(codec, frame);
  if (decoded.componentCount !== 1) throw new Error(`decoded frame has ${decoded.componentCount} components`);
  const bits = decoded.bitsPerSample <= 8 ? 8 : 16;
  return checkSize(instance, samplesView(decoded.bytes, bits, signed));
}

function checkSize(instance: DicomInstance, samples: SampleArray): SampleArray {
  if (samples.length !== frameSampleCount(instance)) {
    throw new Error(`decoded ${samples.length} samples, expected ${instance.rows}x${instance.columns}`);
  }
  return samples;
}
