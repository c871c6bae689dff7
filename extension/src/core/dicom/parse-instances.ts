/**
 * Tolerant header parsing of many files at once (dicom-parser: it indexes elements without decoding
 * values, so 51 CT slices take a few milliseconds). Non-DICOM files are ignored with a note; corrupt or
 * truncated DICOM files are skipped with a warning that names them. Whether a skipped file makes its
 * series unusable is decided later, when that series is chosen (see `buildVolume`).
 */
import { parseDicom, type DataSet } from 'dicom-parser';
import { inflateSync } from 'fflate';
import { RtLiverError } from '../errors';
import { DEFAULT_INPUT_LIMITS, checkLimit, type InputLimits } from '../limits';
import type { DicomInstance, FrameAttributes, ParsedInstances, PatientStudyAttributes, PlaneAttributes, SkippedFile } from './instance';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from './transfer-syntax';

export interface DicomFileBytes {
  name: string;
  bytes: ArrayBuffer | Uint8Array;
}

/**
 * A file that can be read again (a file on disk): its bytes are read to parse the header and let go;
 * a single-frame image's pixels are read again when they are decoded. Peak memory then holds one
 * file's bytes at a time instead of the whole series'.
 */
export interface DicomFileReader {
  name: string;
  read: () => Uint8Array;
}

export type DicomFileSource = DicomFileBytes | DicomFileReader;

/** DICOMDIR and other media-storage directories describe files; they hold no image. */
const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10';

/**
 * `limits`: an instance whose NumberOfFrames or Rows x Columns x frames is over them stops the reading
 * at once (an InputLimitError), before its functional groups or pixels are looked at.
 */
export function parseDicomInstances(files: readonly DicomFileSource[], limits: InputLimits = DEFAULT_INPUT_LIMITS): ParsedInstances {
  const instances: DicomInstance[] = [];
  const skipped: SkippedFile[] = [];
  for (const file of files) {
    const outcome = 'read' in file ? parseRereadable(file, limits) : parseDicomFile(file.name, asBytes(file.bytes), limits);
    if ('instance' in outcome) instances.push(outcome.instance);
    else skipped.push(outcome.skipped);
  }
  if (files.length > 0 && instances.length === 0) {
    const corrupt = skipped.filter((s) => s.kind === 'corrupt');
    throw new RtLiverError(
      'DICOM_NOTHING_READABLE',
      `None of the ${files.length} input files is a readable DICOM instance` +
        (corrupt.length ? ` (${corrupt.length} damaged, e.g. ${corrupt[0].name}: ${corrupt[0].reason}).` : ' (none is DICOM).'),
      'Point rt-liver at a folder of DICOM CT files (or a .nii/.nii.gz volume).',
    );
  }
  return { instances, skipped };
}

export type ParseOutcome = { instance: DicomInstance } | { skipped: SkippedFile };

function asBytes(bytes: ArrayBuffer | Uint8Array): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
}

/** Parses a re-readable file and lets its bytes go: the pixel handle reads the file again on decode. */
function parseRereadable(file: DicomFileReader, limits: InputLimits): ParseOutcome {
  const outcome = parseDicomFile(file.name, file.read(), limits);
  if (!('instance' in outcome)) return outcome;
  const { instance } = outcome;
  // A multi-frame image keeps its data set: its frames are decoded one by one.
  if (!instance.pixelData || instance.numberOfFrames > 1) return outcome;
  const { encapsulated } = instance.pixelData;
  const { sopInstanceUID, transferSyntaxUID } = instance;
  instance.pixelData = { encapsulated, reload: () => reparse(file, sopInstanceUID, transferSyntaxUID) };
  return outcome;
}

function reparse(file: DicomFileReader, sopInstanceUID: string, transferSyntaxUID: string): DataSet {
  let bytes: Uint8Array;
  try {
    bytes = file.read();
  } catch (error) {
    throw new RtLiverError(
      'DICOM_FILE_CHANGED',
      `${file.name} could not be read again to decode its pixels: ${describeParseError(error)}.`,
      'Keep the series folder unchanged while rt-liver reads it, then run again.',
      { cause: error },
    );
  }
  const outcome = parseDicomFile(file.name, bytes, { maxFrames: Infinity, maxVoxels: Infinity, maxDecompressedBytes: Infinity });
  const again = 'instance' in outcome ? outcome.instance : undefined;
  if (!again?.pixelData?.dataSet || again.sopInstanceUID !== sopInstanceUID || again.transferSyntaxUID !== transferSyntaxUID) {
    throw new RtLiverError(
      'DICOM_FILE_CHANGED',
      `${file.name} changed while it was being read (it no longer holds the image whose header was read).`,
      'Keep the series folder unchanged while rt-liver reads it, then run again.',
    );
  }
  return again.pixelData.dataSet;
}

/** One file's header: the instance, or why the file was skipped (not DICOM, damaged). */
export function parseDicomFile(name: string, bytes: Uint8Array, limits: InputLimits = DEFAULT_INPUT_LIMITS): ParseOutcome {
  const rawTransferSyntax = sniffDicom(bytes);
  if (rawTransferSyntax === false) {
    return { skipped: { name, kind: 'not-dicom', reason: 'not a DICOM file (no DICM prefix, no DICOM data set)' } };
  }
  let dataSet: DataSet;
  try {
    dataSet = parseDicom(bytes, {
      ...(rawTransferSyntax ? { TransferSyntaxUID: rawTransferSyntax } : {}),
      inflater: inflateDeflatedDataSet,
    });
  } catch (error) {
    const partial = (error as { dataSet?: DataSet }).dataSet;
    const seriesInstanceUID = partial ? readStringSafely(partial, 'x0020000e') : undefined;
    return {
      skipped: {
        name,
        kind: 'corrupt',
        reason: `damaged or truncated DICOM: ${describeParseError(error)}`,
        ...(seriesInstanceUID ? { seriesInstanceUID } : {}),
      },
    };
  }
  try {
    const sopClassUID = readString(dataSet, 'x00080016') ?? readString(dataSet, 'x00020002') ?? '';
    if (sopClassUID === MEDIA_STORAGE_DIRECTORY) {
      return { skipped: { name, kind: 'not-dicom', reason: 'DICOMDIR (a directory record, not an image)' } };
    }
    return { instance: toInstance(name, dataSet, rawTransferSyntax || readString(dataSet, 'x00020010') || IMPLICIT_VR_LITTLE_ENDIAN, limits) };
  } catch (error) {
    if (error instanceof RtLiverError) throw error;
    // Element lengths that point past the end of the file surface only when a value is read.
    return { skipped: { name, kind: 'corrupt', reason: `damaged DICOM header: ${describeParseError(error)}` } };
  }
}

/**
 * undefined: a Part-10 file (DICM at byte 128). A transfer syntax UID: a raw data set without the
 * Part-10 preamble (old ACR-NEMA style exports), guessed from its first element. false: not DICOM.
 */
function sniffDicom(bytes: Uint8Array): string | undefined | false {
  if (isPart10File(bytes)) return undefined;
  // A raw data set starts with a group 0x0002 or 0x0008 element, little endian.
  if (bytes.length >= 8 && (bytes[0] === 0x08 || bytes[0] === 0x02) && bytes[1] === 0x00 && bytes[3] === 0x00) {
    const looksExplicit = isUpperLetter(bytes[4]) && isUpperLetter(bytes[5]);
    return looksExplicit ? EXPLICIT_VR_LITTLE_ENDIAN : IMPLICIT_VR_LITTLE_ENDIAN;
  }
  return false;
}

/** A DICOM Part-10 file: the 128-byte preamble, then "DICM". */
export function isPart10File(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

function isUpperLetter(byte: number): boolean {
  return byte >= 0x41 && byte <= 0x5a;
}

/** dicom-parser's hook for Deflated Explicit VR Little Endian: header bytes + raw-inflated data set. */
function inflateDeflatedDataSet(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = inflateSync(bytes.subarray(position));
  const whole = new Uint8Array(position + inflated.length);
  whole.set(bytes.subarray(0, position), 0);
  whole.set(inflated, position);
  return whole;
}

function describeParseError(error: unknown): string {
  const inner = (error as { exception?: unknown }).exception ?? error;
  if (inner instanceof Error) return inner.message;
  return String(inner);
}

function toInstance(fileName: string, ds: DataSet, transferSyntaxUID: string, limits: InputLimits): DicomInstance {
  const pixelElement = ds.elements.x7fe00010;
  const instance: DicomInstance = {
    fileName,
    transferSyntaxUID,
    sopClassUID: readString(ds, 'x00080016') ?? '',
    sopInstanceUID: readString(ds, 'x00080018') ?? readString(ds, 'x00020003') ?? '',
    modality: readString(ds, 'x00080060') ?? '',
    studyInstanceUID: readString(ds, 'x0020000d'),
    seriesInstanceUID: readString(ds, 'x0020000e'),
    frameOfReferenceUID: readString(ds, 'x00200052'),
    seriesDescription: readString(ds, 'x0008103e'),
    imageType: readString(ds, 'x00080008')?.split('\\').map((value) => value.trim().toUpperCase()),
    seriesNumber: readNumber(ds, 'x00200011'),
    instanceNumber: readNumber(ds, 'x00200013'),
    ...readPlaneAttributes(ds),
    gantryDetectorTilt: readNumber(ds, 'x00181120'),
    rows: ds.uint16('x00280010') ?? 0,
    columns: ds.uint16('x00280011') ?? 0,
    numberOfFrames: readNumber(ds, 'x00280008') ?? 1,
    samplesPerPixel: ds.uint16('x00280002') ?? 1,
    bitsAllocated: ds.uint16('x00280100') ?? 0,
    bitsStored: ds.uint16('x00280101') ?? ds.uint16('x00280100') ?? 0,
    pixelRepresentation: ds.uint16('x00280103') ?? 0,
    photometricInterpretation: readString(ds, 'x00280004') ?? '',
    rescaleSlope: readNumber(ds, 'x00281053') ?? 1,
    rescaleIntercept: readNumber(ds, 'x00281052') ?? 0,
    patientStudy: readPatientStudy(ds),
  };
  checkLimit(limits, 'maxFrames', instance.numberOfFrames, `${fileName} says NumberOfFrames is ${instance.numberOfFrames}`);
  checkLimit(
    limits,
    'maxVoxels',
    instance.rows * instance.columns * Math.max(1, instance.numberOfFrames),
    `${fileName} is ${instance.columns} x ${instance.rows} pixels x ${Math.max(1, instance.numberOfFrames)} frame(s)`,
  );
  const frames = readFunctionalGroups(ds, instance.numberOfFrames);
  if (frames) instance.frames = frames;
  if (pixelElement) {
    instance.pixelData = { dataSet: ds, encapsulated: Boolean(pixelElement.encapsulatedPixelData) };
  }
  dropUndefined(instance as unknown as Record<string, unknown>);
  return instance;
}

const SHARED_FUNCTIONAL_GROUPS = 'x52009229';
const PER_FRAME_FUNCTIONAL_GROUPS = 'x52009230';
const PLANE_POSITION = 'x00209113';
const PLANE_ORIENTATION = 'x00209116';
const PIXEL_MEASURES = 'x00289110';
const PIXEL_VALUE_TRANSFORMATION = 'x00289145';

/** The first item of a sequence element, or undefined. */
function firstItem(ds: DataSet | undefined, tag: string): DataSet | undefined {
  return ds?.elements[tag]?.items?.[0]?.dataSet;
}

/**
 * Per-frame geometry and rescale of an Enhanced image (CT, Legacy Converted Enhanced CT), from its
 * Functional Groups: the frame's own item wins over the shared one. Undefined for classic images.
 */
function readFunctionalGroups(ds: DataSet, numberOfFrames: number): FrameAttributes[] | undefined {
  const perFrameItems = ds.elements[PER_FRAME_FUNCTIONAL_GROUPS]?.items;
  const shared = firstItem(ds, SHARED_FUNCTIONAL_GROUPS);
  if (!perFrameItems && !shared) return undefined;
  const frames: FrameAttributes[] = [];
  for (let frame = 0; frame < numberOfFrames; frame++) {
    const own = perFrameItems?.[frame]?.dataSet;
    const fromGroup = (sequence: string, read: (item: DataSet) => unknown) => {
      const ownItem = firstItem(own, sequence);
      const ownValue = ownItem ? read(ownItem) : undefined;
      if (ownValue !== undefined) return ownValue;
      const sharedItem = firstItem(shared, sequence);
      return sharedItem ? read(sharedItem) : undefined;
    };
    const attributes: FrameAttributes = {
      imagePositionPatient: fromGroup(PLANE_POSITION, (item) => readDecimals(item, 'x00200032', 3)) as string[] | undefined,
      imageOrientationPatient: fromGroup(PLANE_ORIENTATION, (item) => readDecimals(item, 'x00200037', 6)) as string[] | undefined,
      pixelSpacing: fromGroup(PIXEL_MEASURES, (item) => readDecimals(item, 'x00280030', 2)) as string[] | undefined,
      sliceThickness: fromGroup(PIXEL_MEASURES, (item) => readString(item, 'x00180050')) as string | undefined,
      rescaleSlope: fromGroup(PIXEL_VALUE_TRANSFORMATION, (item) => readNumber(item, 'x00281053')) as number | undefined,
      rescaleIntercept: fromGroup(PIXEL_VALUE_TRANSFORMATION, (item) => readNumber(item, 'x00281052')) as number | undefined,
    };
    dropUndefined(attributes as Record<string, unknown>);
    frames.push(attributes);
  }
  return frames;
}

/** The plane attributes of a classic image, as written. */
function readPlaneAttributes(ds: DataSet): PlaneAttributes {
  return {
    imagePositionPatient: readDecimals(ds, 'x00200032', 3),
    imageOrientationPatient: readDecimals(ds, 'x00200037', 6),
    pixelSpacing: readDecimals(ds, 'x00280030', 2),
    sliceThickness: readString(ds, 'x00180050'),
  };
}

function readPatientStudy(ds: DataSet): PatientStudyAttributes {
  const attributes: PatientStudyAttributes = {
    patientName: readString(ds, 'x00100010'),
    patientID: readString(ds, 'x00100020'),
    patientBirthDate: readString(ds, 'x00100030'),
    patientSex: readString(ds, 'x00100040'),
    studyDate: readString(ds, 'x00080020'),
    studyTime: readString(ds, 'x00080030'),
    studyID: readString(ds, 'x00200010'),
    studyDescription: readString(ds, 'x00081030'),
    accessionNumber: readString(ds, 'x00080050'),
    referringPhysicianName: readString(ds, 'x00080090'),
    manufacturer: readString(ds, 'x00080070'),
  };
  dropUndefined(attributes as Record<string, unknown>);
  return attributes;
}

function dropUndefined(record: Record<string, unknown>): void {
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key];
}

/** readString on a partly parsed data set, whose last element may point past the end of the file. */
function readStringSafely(ds: DataSet, tag: string): string | undefined {
  try {
    return readString(ds, tag);
  } catch {
    return undefined;
  }
}

/** A string value with padding (spaces, NUL) removed; undefined when absent or empty. */
function readString(ds: DataSet, tag: string): string | undefined {
  if (!ds.elements[tag]) return undefined;
  const value = ds.string(tag)?.replace(/[\0\s]+$/, '').trim();
  return value ? value : undefined;
}

/** A DS/IS (decimal string) or binary numeric value; undefined when absent or not a number. */
function readNumber(ds: DataSet, tag: string): number | undefined {
  const values = readNumbers(ds, tag, 1);
  return values?.[0];
}

/**
 * The first `count` values of a decimal string (DS) as written, padding trimmed; undefined when absent,
 * shorter or not all numbers.
 */
function readDecimals(ds: DataSet, tag: string, count: number): string[] | undefined {
  const element = ds.elements[tag];
  if (!element || element.length === 0) return undefined;
  const parts = ds.string(tag)?.split('\\');
  if (!parts || parts.length < count) return undefined;
  const values = parts.slice(0, count).map((part) => part.trim());
  return values.every((value) => value !== '' && Number.isFinite(Number(value))) ? values : undefined;
}

function readNumbers(ds: DataSet, tag: string, count: number): number[] | undefined {
  const element = ds.elements[tag];
  if (!element || element.length === 0) return undefined;
  const raw = ds.string(tag);
  if (raw === undefined) return undefined;
  const parts = raw.split('\\');
  if (parts.length < count) return undefined;
  const values = parts.slice(0, count).map((part) => Number(part.trim()));
  return values.every(Number.isFinite) ? values : undefined;
}
