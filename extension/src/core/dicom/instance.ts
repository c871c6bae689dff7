/**
 * One parsed DICOM instance: the header fields the series reader needs, plus an opaque handle on the
 * parsed data set for decoding its pixels later. Header parsing never touches pixel values.
 */
import type { DataSet } from 'dicom-parser';

/** Patient and study attributes, copied so that derived objects (SEG, reports) can reference them. */
export interface PatientStudyAttributes {
  patientName?: string;
  patientID?: string;
  patientBirthDate?: string;
  patientSex?: string;
  studyDate?: string;
  studyTime?: string;
  studyID?: string;
  studyDescription?: string;
  accessionNumber?: string;
  referringPhysicianName?: string;
  manufacturer?: string;
}

/**
 * An image's plane attributes as written in its header: decimal strings (DS) with their padding
 * trimmed, each absent when missing or not numbers. Kept as text because a SEG copies them verbatim;
 * `sourceImagesOf` (source-image.ts) reads the numbers from them.
 */
export interface PlaneAttributes {
  /** ImagePositionPatient: 3 values. */
  imagePositionPatient?: string[];
  /** ImageOrientationPatient: row direction cosines then column direction cosines, 6 values. */
  imageOrientationPatient?: string[];
  /** PixelSpacing: [spacing between rows (along a column, j), spacing between columns (along a row, i)]. */
  pixelSpacing?: string[];
  sliceThickness?: string;
}

export interface DicomInstance extends PlaneAttributes {
  fileName: string;
  transferSyntaxUID: string;
  sopClassUID: string;
  sopInstanceUID: string;
  /** Modality (0008,0060); '' when absent. */
  modality: string;
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  frameOfReferenceUID?: string;
  seriesDescription?: string;
  /** ImageType values, e.g. ['ORIGINAL', 'PRIMARY', 'AXIAL'] or [..., 'LOCALIZER'] for a scout. */
  imageType?: string[];
  seriesNumber?: number;
  /** Informational only: slices are never ordered by it. */
  instanceNumber?: number;
  gantryDetectorTilt?: number;
  rows: number;
  columns: number;
  numberOfFrames: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
  photometricInterpretation: string;
  rescaleSlope: number;
  rescaleIntercept: number;
  patientStudy: PatientStudyAttributes;
  /**
   * Enhanced (multi-frame) images: each frame's geometry and rescale from the Per-frame and Shared
   * Functional Groups (per-frame values win). Absent for classic single-frame images, whose values are
   * the top-level fields above.
   */
  frames?: FrameAttributes[];
  /** Present when the file holds pixel data. */
  pixelData?: PixelDataHandle;
}

export interface FrameAttributes extends PlaneAttributes {
  rescaleSlope?: number;
  rescaleIntercept?: number;
}

/**
 * Where an instance's Pixel Data lies; only the pixel decoder looks inside. Either the parsed data set
 * itself, or (for files that can be read again, see DicomFileReader) a way to parse it again when its
 * pixels are decoded, so that a reader need not hold every file's bytes at once.
 */
export type PixelDataHandle =
  | { readonly encapsulated: boolean; readonly dataSet: DataSet; readonly reload?: undefined }
  | { readonly encapsulated: boolean; readonly dataSet?: undefined; readonly reload: () => DataSet };

export interface SkippedFile {
  name: string;
  reason: string;
  /**
   * 'not-dicom': ignored with a note; 'corrupt': unreadable or truncated DICOM (a warning). The
   * series UID is filled when enough of the header survived to know which series the file belonged to.
   */
  kind: 'not-dicom' | 'corrupt';
  seriesInstanceUID?: string;
}

export interface ParsedInstances {
  instances: DicomInstance[];
  skipped: SkippedFile[];
}
