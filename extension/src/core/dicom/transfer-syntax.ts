/**
 * Transfer syntaxes that CT scanners and PACS send, and how each one's pixel data is decoded.
 * Anything not listed here is refused with an error that names the syntax.
 */
export type PixelEncoding =
  | 'native-le' // Implicit/Explicit VR Little Endian, Deflated (inflated while parsing)
  | 'native-be' // Explicit VR Big Endian (retired, still seen in archives)
  | 'rle'
  | 'jpeg-baseline' // 8-bit lossy (process 1)
  | 'jpeg-lossless' // processes 14 and 14 SV1
  | 'jpeg-ls'
  | 'jpeg-2000';

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';

const ENCODINGS: Record<string, { encoding: PixelEncoding; name: string }> = {
  [IMPLICIT_VR_LITTLE_ENDIAN]: { encoding: 'native-le', name: 'Implicit VR Little Endian' },
  [EXPLICIT_VR_LITTLE_ENDIAN]: { encoding: 'native-le', name: 'Explicit VR Little Endian' },
  [DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN]: { encoding: 'native-le', name: 'Deflated Explicit VR Little Endian' },
  [EXPLICIT_VR_BIG_ENDIAN]: { encoding: 'native-be', name: 'Explicit VR Big Endian' },
  '1.2.840.10008.1.2.5': { encoding: 'rle', name: 'RLE Lossless' },
  '1.2.840.10008.1.2.4.50': { encoding: 'jpeg-baseline', name: 'JPEG Baseline (Process 1)' },
  '1.2.840.10008.1.2.4.57': { encoding: 'jpeg-lossless', name: 'JPEG Lossless (Process 14)' },
  '1.2.840.10008.1.2.4.70': { encoding: 'jpeg-lossless', name: 'JPEG Lossless SV1 (Process 14)' },
  '1.2.840.10008.1.2.4.80': { encoding: 'jpeg-ls', name: 'JPEG-LS Lossless' },
  '1.2.840.10008.1.2.4.81': { encoding: 'jpeg-ls', name: 'JPEG-LS Near-Lossless' },
  '1.2.840.10008.1.2.4.90': { encoding: 'jpeg-2000', name: 'JPEG 2000 Lossless' },
  '1.2.840.10008.1.2.4.91': { encoding: 'jpeg-2000', name: 'JPEG 2000' },
};

/** Known but not decoded here: named in the error so the user knows what to transcode from. */
const UNSUPPORTED_NAMES: Record<string, string> = {
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4, 12-bit lossy)',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 RPCL Lossless',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component Lossless',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
};

export function pixelEncodingOf(transferSyntaxUID: string): PixelEncoding | undefined {
  return ENCODINGS[transferSyntaxUID]?.encoding;
}

export function transferSyntaxName(transferSyntaxUID: string): string {
  const name = ENCODINGS[transferSyntaxUID]?.name ?? UNSUPPORTED_NAMES[transferSyntaxUID];
  return name ? `${name} (${transferSyntaxUID})` : `unknown transfer syntax ${transferSyntaxUID}`;
}

export function supportedTransferSyntaxes(): string[] {
  return Object.keys(ENCODINGS);
}
