/**
 * Converts a DICOM Part 10 file into the DICOM JSON model (PS3.18 F.2) that DICOMweb metadata
 * responses carry, with the pixel data split off as frames. dcmjs parses; this module only reshapes
 * its dictionary: drops dcmjs-private fields, omits empty values, keeps the pixel data element
 * (without value) for a BulkDataURI and leaves other binary values out (a viewer does not need them).
 */
import * as dcmjs from 'dcmjs';

export type DicomJsonValue = { vr: string; Value?: unknown[]; BulkDataURI?: string; InlineBinary?: string };
export type DicomJsonDataset = Record<string, DicomJsonValue>;

export interface ParsedInstance {
  transferSyntaxUid: string;
  dataset: DicomJsonDataset;
  /** Uncompressed pixel bytes of each frame, in order. */
  frames: Uint8Array[];
}

const PIXEL_DATA = '7FE00010';
const BINARY_VRS = new Set(['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'UN']);

/** Transfer syntaxes whose pixel data we serve as is: uncompressed little endian. */
export const UNCOMPRESSED_LITTLE_ENDIAN = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);
/** What frames are labelled with: implicit and explicit LE pixel bytes are identical. */
export const SERVED_TRANSFER_SYNTAX = '1.2.840.10008.1.2.1';

export class UnsupportedDicomError extends Error {}

export function parseDicomInstance(bytes: Uint8Array): ParsedInstance {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  quietDcmjsValidation();
  const file = dcmjs.data.DicomMessage.readFile(buffer) as {
    meta: Record<string, { Value?: unknown[] }>;
    dict: Record<string, { vr: string; Value?: unknown[] }>;
  };
  const transferSyntaxUid = String(file.meta['00020010']?.Value?.[0] ?? '1.2.840.10008.1.2');
  const pixel = file.dict[PIXEL_DATA];
  const frames: Uint8Array[] = [];
  if (pixel?.Value?.length) {
    if (!UNCOMPRESSED_LITTLE_ENDIAN.has(transferSyntaxUid)) {
      throw new UnsupportedDicomError(
        `transfer syntax ${transferSyntaxUid} is not supported by the static store (uncompressed little endian only); ` +
          'decompress first, e.g. with `dcmdjpeg in.dcm out.dcm` or `gdcmconv --raw`.',
      );
    }
    frames.push(...splitFrames(file.dict, pixel.Value[0] as ArrayBuffer));
  }
  const dataset = toDicomJson(file.dict);
  if (frames.length) {
    // The caller, which knows where frames will be served, sets the BulkDataURI.
    dataset[PIXEL_DATA] = { vr: pixel!.vr === 'OB' ? 'OB' : 'OW' };
  } else {
    delete dataset[PIXEL_DATA];
  }
  dataset['00083002'] = { vr: 'UI', Value: [frames.length ? SERVED_TRANSFER_SYNTAX : transferSyntaxUid] };
  return { transferSyntaxUid, dataset, frames };
}

function splitFrames(dict: Record<string, { Value?: unknown[] }>, pixelData: ArrayBuffer): Uint8Array[] {
  const number = (tag: string, fallback: number) => Number(dict[tag]?.Value?.[0] ?? fallback) || fallback;
  const rows = number('00280010', 0);
  const columns = number('00280011', 0);
  const samples = number('00280002', 1);
  const bitsAllocated = number('00280100', 16);
  const count = number('00280008', 1);
  const frameBytes = (rows * columns * samples * bitsAllocated) / 8;
  const all = new Uint8Array(pixelData);
  if (!frameBytes || all.byteLength < frameBytes * count) {
    throw new UnsupportedDicomError(
      `pixel data holds ${all.byteLength} bytes, fewer than ${count} frame(s) of ${rows}x${columns}x${bitsAllocated} bits.`,
    );
  }
  return Array.from({ length: count }, (_, f) => all.slice(f * frameBytes, (f + 1) * frameBytes));
}

/** dcmjs logs every private tag with an odd VR ("Invalid vr type ox") as an error; harmless here. */
function quietDcmjsValidation(): void {
  const log = (dcmjs as unknown as { log?: { getLogger?: (name: string) => { setLevel: (level: string) => void } } }).log;
  log?.getLogger?.('validation.dcmjs').setLevel('silent');
}

export function toDicomJson(dict: Record<string, { vr: string; Value?: unknown[] }>): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const [tag, element] of Object.entries(dict)) {
    const vr = element.vr;
    if (tag === PIXEL_DATA) {
      out[tag] = { vr };
      continue;
    }
    if (BINARY_VRS.has(vr)) continue;
    const values = (element.Value ?? []).filter((value) => value !== '' && value !== undefined && value !== null);
    if (vr === 'SQ') {
      const items = (element.Value ?? []) as Record<string, { vr: string; Value?: unknown[] }>[];
      out[tag] = items.length ? { vr, Value: items.map((item) => toDicomJson(item)) } : { vr };
    } else {
      out[tag] = values.length ? { vr, Value: values } : { vr };
    }
  }
  return out;
}

/** First value of a tag as a string, or undefined. */
export function firstString(dataset: DicomJsonDataset, tag: string): string | undefined {
  const value = dataset[tag]?.Value?.[0];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object' && 'Alphabetic' in (value as object)) return String((value as { Alphabetic: string }).Alphabetic);
  return String(value);
}
