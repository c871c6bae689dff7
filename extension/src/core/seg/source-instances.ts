/**
 * The few header attributes of each source CT image that a SEG needs: identity, study, frame of
 * reference and plane geometry. A single-frame instance (CT Image Storage) gives one image; a
 * multi-frame one (Enhanced or Legacy Converted Enhanced CT) one per frame, from its functional groups.
 * Parsed with dicom-parser up to the pixel data only (about 0.1 ms per instance, no copy of the
 * pixels); the source buffers are read, never written.
 */
import { parseDicom, type DataSet } from 'dicom-parser';
import { sameOrientation, type ImageOrientation, type ImagePlane } from '../dicom/slice-geometry';
import { RtLiverError } from '../errors';
import type { Vec3 } from '../volume';

/**
 * One source image plane: a single-frame instance, or one frame of a multi-frame instance. Its
 * geometry is the shared `ImagePlane` (dicom/slice-geometry.ts), plus the identity a SEG references
 * and the plane attributes as written (copied verbatim into the SEG).
 */
export interface SourceInstance extends ImagePlane {
  /** Position of this buffer in the caller's list (the list may come in any order). */
  inputIndex: number;
  /** 1-based frame number within a multi-frame instance; undefined for a single-frame instance. */
  frameNumber?: number;
  sopClassUID: string;
  sopInstanceUID: string;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  frameOfReferenceUID: string;
  /** ImagePositionPatient, ImageOrientationPatient and PixelSpacing as written in the source. */
  positionText: string[];
  orientationText: string[];
  pixelSpacingText: string[];
  sliceThicknessText?: string;
}

/** The image planes of one file: one for a single-frame CT, one per frame for an Enhanced CT. */
export function readSourceImages(buffer: ArrayBuffer, inputIndex: number): SourceInstance[] {
  let dataSet: DataSet;
  try {
    dataSet = parseDicom(new Uint8Array(buffer), { untilTag: 'x7fe00010' });
  } catch (error) {
    throw new RtLiverError(
      'SEG_SOURCE_UNREADABLE',
      `Source instance #${inputIndex + 1} is not a readable DICOM Part-10 file (${describe(error)}).`,
      'Pass the CT files exactly as stored (with the 128-byte preamble and "DICM").',
      { cause: error },
    );
  }
  const where = `Source instance #${inputIndex + 1}`;
  const required = (tag: string, name: string): string => {
    const value = dataSet.string(tag);
    if (!value) {
      throw new RtLiverError(
        'SEG_SOURCE_INCOMPLETE',
        `${where} has no ${name} ${tagLabel(tag)}.`,
        'A SEG can only reference CT images that carry their identity and plane geometry.',
      );
    }
    return value;
  };
  const rows = dataSet.uint16('x00280010');
  const columns = dataSet.uint16('x00280011');
  if (!rows || !columns) {
    throw new RtLiverError('SEG_SOURCE_INCOMPLETE', `${where} has no Rows/Columns.`, 'Pass CT images.');
  }
  const identity = {
    inputIndex,
    sopClassUID: required('x00080016', 'SOPClassUID'),
    sopInstanceUID: required('x00080018', 'SOPInstanceUID'),
    studyInstanceUID: required('x0020000d', 'StudyInstanceUID'),
    seriesInstanceUID: required('x0020000e', 'SeriesInstanceUID'),
    frameOfReferenceUID: required('x00200052', 'FrameOfReferenceUID'),
    rows,
    columns,
  };

  const perFrame = dataSet.elements.x52009230?.items;
  if (!perFrame) return [{ ...identity, ...planeOf([dataSet], `${where}`) }];
  // Multi-frame: each frame's plane from its own functional groups, else from the shared ones.
  const shared = dataSet.elements.x52009229?.items?.[0]?.dataSet;
  return perFrame.map((item, index) => {
    const groups = [item.dataSet, shared].filter((group): group is DataSet => group !== undefined);
    const macros = ['x00209113', 'x00209116', 'x00289110'].flatMap((tag) =>
      groups.map((group) => group.elements[tag]?.items?.[0]?.dataSet).filter((macro): macro is DataSet => macro !== undefined),
    );
    return { ...identity, frameNumber: index + 1, ...planeOf(macros, `${where}, frame ${index + 1},`) };
  });
}

/** Plane geometry from the first of `sources` that has each attribute. */
function planeOf(sources: DataSet[], where: string) {
  const texts = (tag: string, name: string, count: number): string[] => {
    const source = sources.find((candidate) => candidate.string(tag) !== undefined);
    const values = Array.from({ length: count }, (_, index) => source?.string(tag, index) ?? '');
    if (values.some((value) => value === '' || !Number.isFinite(Number(value)))) {
      throw new RtLiverError(
        'SEG_SOURCE_INCOMPLETE',
        `${where} has no valid ${name} ${tagLabel(tag)}${source ? `: "${source.string(tag)}"` : ''}.`,
        `A SEG can only reference CT images that carry their plane geometry (${name} needs ${count} numbers).`,
      );
    }
    return values;
  };
  return {
    ...planeFromTexts(texts('x00200032', 'ImagePositionPatient', 3), texts('x00200037', 'ImageOrientationPatient', 6), texts('x00280030', 'PixelSpacing', 2)),
    sliceThicknessText: sources.map((source) => source.string('x00180050')).find(Boolean),
  };
}

/** The plane attributes as read (kept verbatim for the SEG) and as numbers. */
function planeFromTexts(positionText: string[], orientationText: string[], pixelSpacingText: string[]) {
  return {
    position: positionText.map(Number) as Vec3,
    positionText,
    orientation: orientationText.map(Number) as ImageOrientation,
    orientationText,
    pixelSpacing: pixelSpacingText.map(Number) as [number, number],
    pixelSpacingText,
  };
}

/**
 * A source instance as metadata instead of a file: a naturalized dataset with DICOM keywords (an OHIF
 * instance from DicomMetadataStore, or dcmjs' naturalizeDataset), numbers or decimal strings alike.
 * What a viewer holds, so it need not download the CT files again to write a SEG.
 */
export type SourceInstanceMetadata = Record<string, unknown>;
export type SourceInput = ArrayBuffer | SourceInstanceMetadata;

/** The image plane of one single-frame instance given as metadata. */
export function readSourceMetadata(metadata: SourceInstanceMetadata, inputIndex: number): SourceInstance {
  const where = `Source instance #${inputIndex + 1}`;
  const text = (keyword: string): string | undefined => {
    const value = metadata[keyword];
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined || first === null || first === '' ? undefined : String(first);
  };
  const required = (keyword: string): string => {
    const value = text(keyword);
    if (!value) {
      throw new RtLiverError(
        'SEG_SOURCE_INCOMPLETE',
        `${where} has no ${keyword}.`,
        'A SEG can only reference CT images that carry their identity and plane geometry.',
      );
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
  return {
    inputIndex,
    sopClassUID: required('SOPClassUID'),
    sopInstanceUID: required('SOPInstanceUID'),
    studyInstanceUID: required('StudyInstanceUID'),
    seriesInstanceUID: required('SeriesInstanceUID'),
    frameOfReferenceUID: required('FrameOfReferenceUID'),
    rows,
    columns,
    ...plane,
    sliceThicknessText: typeof thickness === 'number' ? formatDecimalString(thickness) : text('SliceThickness'),
  };
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
export function readAllSourceImages(inputs: SourceInput[]): SourceInstance[] {
  const fileOf = new Map<string, SourceInput>();
  const images: SourceInstance[] = [];
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
export function checkOneSeries(instances: SourceInstance[]): void {
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

function tagLabel(tag: string): string {
  return `(${tag.slice(1, 5).toUpperCase()},${tag.slice(5).toUpperCase()})`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
