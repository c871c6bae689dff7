/**
 * The source CT images a SEG references, from the files (read by the DICOM parser, dicom/
 * parse-instances.ts) or from the instances' metadata (what a viewer holds): the same `SourceImage`
 * record (dicom/source-image.ts) either way, with the identity a SEG needs checked present. A
 * single-frame instance (CT Image Storage) gives one image; a multi-frame one (Enhanced or Legacy
 * Converted Enhanced CT) one per frame. Only headers are read; the source buffers are never written.
 */
import { isPart10File, parseDicomFile } from '../dicom/parse-instances';
import { sameOrientation } from '../dicom/slice-geometry';
import { planeFromTexts, sourceImagesOf, type SourceImage } from '../dicom/source-image';
import { RtLiverError } from '../errors';

/** A source image with everything a SEG references, and where it came from in the caller's list. */
export interface SegSourceImage extends SourceImage {
  /** Position of its file (or metadata) in the caller's list (the list may come in any order). */
  inputIndex: number;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  frameOfReferenceUID: string;
}

const INCOMPLETE_HINT = 'A SEG can only reference CT images that carry their identity and plane geometry.';

/** The image planes of one file: one for a single-frame CT, one per frame for an Enhanced CT. */
export function readSourceImages(buffer: ArrayBuffer, inputIndex: number): SegSourceImage[] {
  const where = `Source instance #${inputIndex + 1}`;
  const bytes = new Uint8Array(buffer);
  const outcome = isPart10File(bytes) ? parseDicomFile(where, bytes) : undefined;
  if (!outcome || 'skipped' in outcome) {
    throw new RtLiverError(
      'SEG_SOURCE_UNREADABLE',
      `${where} is not a readable DICOM Part-10 file (${outcome ? outcome.skipped.reason : 'no "DICM" after a 128-byte preamble'}).`,
      'Pass the CT files exactly as stored (with the 128-byte preamble and "DICM").',
    );
  }
  const { instance } = outcome;
  if (!instance.rows || !instance.columns) {
    throw new RtLiverError('SEG_SOURCE_INCOMPLETE', `${where} has no Rows/Columns.`, 'Pass CT images.');
  }
  const missingGeometry = (frameNumber: number | undefined, missing: string[]) =>
    new RtLiverError(
      'SEG_SOURCE_INCOMPLETE',
      `${where}${frameNumber === undefined ? '' : `, frame ${frameNumber},`} has no valid ${missing.join(', ')}.`,
      `${INCOMPLETE_HINT} (ImagePositionPatient needs 3 numbers, ImageOrientationPatient 6, PixelSpacing 2.)`,
    );
  return sourceImagesOf(instance, missingGeometry).map((image) => withIdentity(image, inputIndex, (name) => `${where} has no ${name}.`));
}

/** The image with its input index, once the identity a SEG references is known to be there. */
function withIdentity(image: SourceImage, inputIndex: number, absent: (name: string) => string): SegSourceImage {
  const required = {
    SOPClassUID: image.sopClassUID,
    SOPInstanceUID: image.sopInstanceUID,
    StudyInstanceUID: image.studyInstanceUID,
    SeriesInstanceUID: image.seriesInstanceUID,
    FrameOfReferenceUID: image.frameOfReferenceUID,
  };
  for (const [name, value] of Object.entries(required)) {
    if (!value) throw new RtLiverError('SEG_SOURCE_INCOMPLETE', absent(name), INCOMPLETE_HINT);
  }
  return { ...image, inputIndex } as SegSourceImage;
}

/**
 * A source instance as metadata instead of a file: a naturalized dataset with DICOM keywords (an OHIF
 * instance from DicomMetadataStore, or dcmjs' naturalizeDataset), numbers or decimal strings alike.
 * What a viewer holds, so it need not download the CT files again to write a SEG.
 */
export type SourceInstanceMetadata = Record<string, unknown>;
export type SourceInput = ArrayBuffer | SourceInstanceMetadata;

/** The image plane of one single-frame instance given as metadata: the same record a file gives. */
export function readSourceMetadata(metadata: SourceInstanceMetadata, inputIndex: number): SegSourceImage {
  const where = `Source instance #${inputIndex + 1}`;
  const text = (keyword: string): string | undefined => {
    const value = metadata[keyword];
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined || first === null || first === '' ? undefined : String(first);
  };
  const required = (keyword: string): string => {
    const value = text(keyword);
    if (!value) {
      throw new RtLiverError('SEG_SOURCE_INCOMPLETE', `${where} has no ${keyword}.`, INCOMPLETE_HINT);
    }
    return value;
  };
  const decimals = (keyword: string, count: number): string[] => {
    const value = metadata[keyword];
    const list = (Array.isArray(value) ? value : typeof value === 'string' ? value.split('\\') : []).map((item) =>
      typeof item === 'number' ? formatDecimalString(item) : String(item).trim(),
    );
    if (list.length !== count || list.some((item) => item === '' || !Number.isFinite(Number(item)))) {
      throw new RtLiverError(
        'SEG_SOURCE_INCOMPLETE',
        `${where} has no valid ${keyword}.`,
        `A SEG can only reference CT images that carry their plane geometry (${keyword} needs ${count} numbers).`,
      );
    }
    return list;
  };
  if (Number(text('NumberOfFrames') ?? 1) > 1) {
    throw new RtLiverError(
      'SEG_SOURCE_MULTIFRAME',
      `${where} is a multi-frame instance given as metadata.`,
      'Pass multi-frame (Enhanced CT) sources as their Part-10 files.',
    );
  }
  const rows = Number(required('Rows'));
  const columns = Number(required('Columns'));
  const plane = planeFromTexts(decimals('ImagePositionPatient', 3), decimals('ImageOrientationPatient', 6), decimals('PixelSpacing', 2));
  const thickness = metadata.SliceThickness;
  const sliceThicknessText = typeof thickness === 'number' ? formatDecimalString(thickness) : text('SliceThickness');
  const image: SourceImage = {
    sopClassUID: text('SOPClassUID') ?? '',
    sopInstanceUID: text('SOPInstanceUID') ?? '',
    studyInstanceUID: text('StudyInstanceUID'),
    seriesInstanceUID: text('SeriesInstanceUID'),
    frameOfReferenceUID: text('FrameOfReferenceUID'),
    rows,
    columns,
    ...plane,
    ...(sliceThicknessText !== undefined ? { sliceThicknessText } : {}),
  };
  return withIdentity(image, inputIndex, (name) => `${where} has no ${name}.`);
}

/** A DICOM DS value (at most 16 characters) that reads back as the same number where possible. */
export function formatDecimalString(value: number): string {
  if (Object.is(value, -0) || Math.abs(value) < 1e-12) return '0';
  for (let digits = 17; digits >= 1; digits--) {
    const text = Number(value.toPrecision(digits)).toString();
    if (text.length <= 16) return text;
  }
  return value.toExponential(6);
}

/**
 * Every image plane of the given files (or metadata), in input order (frames in frame order). The
 * same file given more than once (e.g. a multi-frame file listed once per frame) counts once; two
 * *different* files with one SOPInstanceUID are an error.
 */
export function readAllSourceImages(inputs: SourceInput[]): SegSourceImage[] {
  const fileOf = new Map<string, SourceInput>();
  const images: SegSourceImage[] = [];
  inputs.forEach((input, index) => {
    const fromFile = input instanceof ArrayBuffer ? readSourceImages(input, index) : [readSourceMetadata(input, index)];
    const uid = fromFile[0].sopInstanceUID;
    const earlier = fileOf.get(uid);
    if (earlier) {
      if (sameSource(earlier, input)) return;
      throw new RtLiverError(
        'SEG_SOURCE_DUPLICATE',
        `Source instance #${index + 1} and an earlier one are different files with the same SOPInstanceUID ${uid}.`,
        'Each DICOM instance needs its own SOPInstanceUID; pass the series as stored.',
      );
    }
    fileOf.set(uid, input);
    images.push(...fromFile);
  });
  return images;
}

function sameSource(a: SourceInput, b: SourceInput): boolean {
  if (a === b) return true;
  if (!(a instanceof ArrayBuffer) || !(b instanceof ArrayBuffer)) return false;
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  for (let index = 0; index < x.length; index++) if (x[index] !== y[index]) return false;
  return true;
}

/** How a SEG frame names its source image: SOP Instance UID, plus the frame number in a multi-frame one. */
export function sourceImageKey(sopInstanceUID: string, frameNumber?: number): string {
  return frameNumber === undefined ? sopInstanceUID : `${sopInstanceUID}#${frameNumber}`;
}

/**
 * All instances must belong to one study, one frame of reference and one plane orientation, with
 * distinct SOP Instance UIDs; anything else cannot become one SEG.
 */
export function checkOneSeries(instances: SegSourceImage[]): void {
  if (instances.length === 0) {
    throw new RtLiverError('SEG_NO_SOURCE', 'No source CT instances were given.', 'Pass the CT series the mask was computed on.');
  }
  const first = instances[0];
  const seen = new Set<string>();
  for (const instance of instances) {
    const key = sourceImageKey(instance.sopInstanceUID, instance.frameNumber);
    const where = `Source instance #${instance.inputIndex + 1} (${key})`;
    if (seen.has(key)) {
      throw new RtLiverError('SEG_SOURCE_DUPLICATE', `${where} is given twice.`, 'Pass each CT image once.');
    }
    seen.add(key);
    if (instance.studyInstanceUID !== first.studyInstanceUID) {
      throw new RtLiverError('SEG_SOURCE_MIXED', `${where} belongs to another study.`, 'Pass the images of one CT series.');
    }
    if (instance.frameOfReferenceUID !== first.frameOfReferenceUID) {
      throw new RtLiverError(
        'SEG_SOURCE_MIXED',
        `${where} has another FrameOfReferenceUID.`,
        'Pass the images of one CT series.',
      );
    }
    if (instance.rows !== first.rows || instance.columns !== first.columns) {
      throw new RtLiverError(
        'SEG_SOURCE_MIXED',
        `${where} is ${instance.columns}x${instance.rows}, the first one ${first.columns}x${first.rows}.`,
        'All images of the series must have the same matrix.',
      );
    }
    if (!sameOrientation(instance.orientation, first.orientation)) {
      throw new RtLiverError(
        'SEG_SOURCE_MIXED',
        `${where} has another ImageOrientationPatient.`,
        'All images of the series must lie in parallel planes with the same row and column directions.',
      );
    }
  }
}

