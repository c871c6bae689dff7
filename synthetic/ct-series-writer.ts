/**
 * Writes a Volume as a DICOM CT series (CT Image Storage, Explicit VR Little Endian, one file per
 * k-slice) with its geometry taken exactly from the Volume. Used for the demo study, for geometry
 * tests of the series reader (shuffled, reversed, feet-first, oblique, gantry tilt, odd sizes) and
 * as the source images of SEG tests.
 */
import dcmjs from 'dcmjs';
import { dot, orientationFrame } from '../extension/src/core/dicom/slice-geometry';
import { RtLiverError } from '../extension/src/core/errors';
import { indexToWorld, type Vec3, type Volume } from '../extension/src/core/volume';
import { Random, uidFromSeed } from './random';

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** Our implementation class UID (a fixed 2.25 UID) and version name, written in the file meta. */
export const IMPLEMENTATION_CLASS_UID = uidFromSeed('rt-liver', 'implementation-class');
export const IMPLEMENTATION_VERSION_NAME = 'RT_LIVER_0_1';

export type PixelStorage = 'int16' | 'uint16-intercept-1024';
export type InstanceNumbering = 'ascending' | 'reversed' | 'shuffled';

export interface CtSeriesOptions {
  /** Seed of every generated UID (and of the shuffled numbering): same seed, same UIDs. */
  seed?: string | number;
  patientName?: string;
  patientID?: string;
  /** DICOM DA, e.g. '19600101'. */
  patientBirthDate?: string;
  patientSex?: 'M' | 'F' | 'O' | '';
  patientAge?: string;
  studyDescription?: string;
  /** DICOM DA and TM of the study; default 20240101 / 120000 (fixed, so output is reproducible). */
  studyDate?: string;
  studyTime?: string;
  studyID?: string;
  accessionNumber?: string;
  referringPhysicianName?: string;
  institutionName?: string;
  manufacturer?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  bodyPartExamined?: string;
  /** 'HFS' head first supine (default), 'FFS' feet first supine, ... Written as given. */
  patientPosition?: string;
  /** Explicit UIDs override the seeded ones (e.g. to put two series in one study). */
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  frameOfReferenceUID?: string;
  /** How HU are stored: signed, or unsigned with RescaleIntercept -1024 (as many scanners do). */
  pixelStorage?: PixelStorage;
  /** InstanceNumber order relative to k; readers must sort by position, never by this. */
  instanceNumbers?: InstanceNumbering;
  /** Leave these UIDs out of every file (a reader must survive it). */
  omit?: { studyInstanceUID?: boolean; seriesInstanceUID?: boolean };
  /** Display window written into every image; default abdomen (40 / 400). */
  window?: { center: number; width: number };
}

export interface CtSeriesFile {
  /** Suggested file name (by InstanceNumber, not by slice index). */
  name: string;
  bytes: ArrayBuffer;
  sopInstanceUID: string;
  /** The volume's k index this file holds. */
  sliceIndex: number;
  instanceNumber: number;
}

export interface CtSeries {
  /** One file per k, in k order. */
  files: CtSeriesFile[];
  studyInstanceUID: string;
  seriesInstanceUID: string;
  frameOfReferenceUID: string;
}

/** DICOM decimal strings hold at most 16 characters; keep full precision within that. */
export function formatDecimalString(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`Cannot write ${value} as a DICOM decimal string.`);
  if (Object.is(value, -0) || Math.abs(value) < 1e-10) return '0';
  for (let digits = 10; digits >= 1; digits--) {
    const text = Number(value.toPrecision(digits)).toString();
    if (text.length <= 16) return text;
  }
  return value.toExponential(6);
}

export function writeCtSeries(volume: Volume<Int16Array>, options: CtSeriesOptions = {}): CtSeries {
  validateVolume(volume);
  const [nx, ny, nz] = volume.dimensions;
  const seed = options.seed ?? 'rt-liver';
  const studyInstanceUID = options.studyInstanceUID ?? uidFromSeed(seed, 'study');
  const seriesInstanceUID = options.seriesInstanceUID ?? uidFromSeed(seed, 'series', options.seriesNumber ?? 1);
  const frameOfReferenceUID = options.frameOfReferenceUID ?? uidFromSeed(seed, 'frame-of-reference');
  const instanceNumbers = instanceNumbersFor(nz, options.instanceNumbers ?? 'ascending', new Random(`${seed}|numbers`));
  const storage = options.pixelStorage ?? 'int16';
  const sliceThickness = distanceBetweenSlicePlanes(volume);

  const files: CtSeriesFile[] = [];
  for (let k = 0; k < nz; k++) {
    const sopInstanceUID = uidFromSeed(seed, seriesInstanceUID, 'instance', k);
    const position = indexToWorld(volume, [0, 0, k]);
    const dataset: Record<string, unknown> = {
      SpecificCharacterSet: 'ISO_IR 192',
      ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
      SOPClassUID: CT_IMAGE_STORAGE,
      SOPInstanceUID: sopInstanceUID,
      StudyDate: options.studyDate ?? '20240101',
      SeriesDate: options.studyDate ?? '20240101',
      ContentDate: options.studyDate ?? '20240101',
      StudyTime: options.studyTime ?? '120000',
      SeriesTime: options.studyTime ?? '120000',
      ContentTime: options.studyTime ?? '120000',
      AccessionNumber: options.accessionNumber ?? '',
      Modality: 'CT',
      Manufacturer: options.manufacturer ?? 'rt-liver synthetic',
      InstitutionName: options.institutionName ?? '',
      ReferringPhysicianName: options.referringPhysicianName ?? '',
      StudyDescription: options.studyDescription ?? 'Synthetic CT',
      SeriesDescription: options.seriesDescription ?? 'Synthetic CT series',
      PatientName: options.patientName ?? 'Phantom^Synthetic',
      PatientID: options.patientID ?? 'RTLIVER-PHANTOM',
      PatientBirthDate: options.patientBirthDate ?? '',
      PatientSex: options.patientSex ?? '',
      ...(options.patientAge ? { PatientAge: options.patientAge } : {}),
      BodyPartExamined: options.bodyPartExamined ?? 'ABDOMEN',
      SliceThickness: formatDecimalString(sliceThickness),
      KVP: '120',
      PatientPosition: options.patientPosition ?? 'HFS',
      StudyInstanceUID: studyInstanceUID,
      SeriesInstanceUID: seriesInstanceUID,
      StudyID: options.studyID ?? '1',
      SeriesNumber: String(options.seriesNumber ?? 1),
      AcquisitionNumber: '1',
      InstanceNumber: String(instanceNumbers[k]),
      ImagePositionPatient: position.map(formatDecimalString),
      ImageOrientationPatient: [...volume.direction[0], ...volume.direction[1]].map(formatDecimalString),
      FrameOfReferenceUID: frameOfReferenceUID,
      PositionReferenceIndicator: '',
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      Rows: ny,
      Columns: nx,
      // Row spacing (between rows, along j) first, then column spacing (along i).
      PixelSpacing: [volume.spacing[1], volume.spacing[0]].map(formatDecimalString),
      BitsAllocated: 16,
      BitsStored: 16,
      HighBit: 15,
      PixelRepresentation: storage === 'int16' ? 1 : 0,
      WindowCenter: formatDecimalString(options.window?.center ?? 40),
      WindowWidth: formatDecimalString(options.window?.width ?? 400),
      RescaleIntercept: storage === 'int16' ? '0' : '-1024',
      RescaleSlope: '1',
      RescaleType: 'HU',
      PixelData: [slicePixels(volume, k, storage)],
      // dcmjs cannot pick between OB and OW for PixelData on its own.
      _vrMap: { PixelData: 'OW' },
    };
    if (options.omit?.studyInstanceUID) delete dataset.StudyInstanceUID;
    if (options.omit?.seriesInstanceUID) delete dataset.SeriesInstanceUID;
    files.push({
      name: `CT${String(instanceNumbers[k]).padStart(4, '0')}.dcm`,
      bytes: writePart10(dataset, sopInstanceUID),
      sopInstanceUID,
      sliceIndex: k,
      instanceNumber: instanceNumbers[k],
    });
  }
  return { files, studyInstanceUID, seriesInstanceUID, frameOfReferenceUID };
}

function validateVolume(volume: Volume<Int16Array>): void {
  const [nx, ny, nz] = volume.dimensions;
  if (![nx, ny, nz].every((n) => Number.isInteger(n) && n >= 1) || nx > 65535 || ny > 65535) {
    throw new RtLiverError('CT_WRITER_DIMENSIONS', `Cannot write a CT series of ${nx}x${ny}x${nz} voxels.`,
      'Dimensions must be positive integers, rows and columns at most 65535.');
  }
  if (volume.voxels.length !== nx * ny * nz) {
    throw new RtLiverError('CT_WRITER_VOXEL_COUNT',
      `The volume holds ${volume.voxels.length} voxels but its dimensions say ${nx * ny * nz}.`,
      'Build the Volume with voxels.length = nx * ny * nz.');
  }
  const [row, column] = volume.direction;
  const dot = row[0] * column[0] + row[1] * column[1] + row[2] * column[2];
  if (Math.abs(dot) > 1e-4) {
    throw new RtLiverError('CT_WRITER_ORIENTATION', 'The row and column directions are not perpendicular.',
      'DICOM images have orthogonal rows and columns; only the slice axis may be sheared.');
  }
}

/**
 * Distance between neighbouring slice planes: spacing[2] projected on the image plane normal.
 * Equals spacing[2] for a regular stack and is smaller under gantry tilt.
 */
export function distanceBetweenSlicePlanes(volume: Volume): number {
  const [r, c, s] = volume.direction;
  return Math.abs(dot(s, orientationFrame([...r, ...c]).normal)) * volume.spacing[2];
}

function instanceNumbersFor(count: number, order: InstanceNumbering, random: Random): number[] {
  const ascending = Array.from({ length: count }, (_, k) => k + 1);
  if (order === 'reversed') return ascending.reverse();
  if (order === 'shuffled') return random.shuffled(ascending);
  return ascending;
}

/** Slice k as little-endian 16-bit pixels; unsigned storage holds HU + 1024, clamped to [0, 65535]. */
function slicePixels(volume: Volume<Int16Array>, k: number, storage: PixelStorage): ArrayBuffer {
  const [nx, ny] = volume.dimensions;
  const count = nx * ny;
  const offset = k * count;
  const buffer = new ArrayBuffer(count * 2);
  const view = new DataView(buffer);
  if (storage === 'int16') {
    for (let p = 0; p < count; p++) view.setInt16(p * 2, volume.voxels[offset + p], true);
  } else {
    for (let p = 0; p < count; p++) {
      const stored = volume.voxels[offset + p] + 1024;
      view.setUint16(p * 2, stored < 0 ? 0 : stored > 65535 ? 65535 : stored, true);
    }
  }
  return buffer;
}

/** A naturalized dataset to DICOM Part 10 bytes (preamble, file meta, Explicit VR Little Endian). */
export function writePart10(dataset: Record<string, unknown>, sopInstanceUID: string): ArrayBuffer {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: sopInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return dict.write();
}
