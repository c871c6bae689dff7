/**
 * NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers: the fields rt-liver uses, read in either byte
 * order and written as little-endian NIfTI-1. Field offsets follow nifti1.h and nifti2.h.
 */
import { RtLiverError } from '../errors';

export type NiftiVersion = 1 | 2;

export interface NiftiHeader {
  version: NiftiVersion;
  littleEndian: boolean;
  /** dim[0..7]: dim[0] is the number of dimensions. */
  dim: number[];
  datatype: number;
  bitpix: number;
  /** pixdim[0] is qfac (the sign of the qform's third axis). */
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  /** Rows of the sform: srow_x, srow_y, srow_z (RAS). */
  srow: [number[], number[], number[]];
  intentCode: number;
  xyztUnits: number;
  descrip: string;
  magic: string;
}

export const NIFTI1_HEADER_SIZE = 348;
export const NIFTI2_HEADER_SIZE = 540;

/** NIfTI datatype codes (nifti1.h). */
export const NIFTI_TYPE = {
  UINT8: 2,
  INT16: 4,
  INT32: 8,
  FLOAT32: 16,
  FLOAT64: 64,
  INT8: 256,
  UINT16: 512,
} as const;

export const NIFTI_INTENT_LABEL = 1002;
export const NIFTI_XFORM_SCANNER_ANAT = 1;

function text(bytes: Uint8Array, offset: number, length: number): string {
  let out = '';
  for (let i = offset; i < offset + length && bytes[i] !== 0; i++) out += String.fromCharCode(bytes[i]);
  return out;
}

/** Reads the header at the start of an (uncompressed) NIfTI file. */
export function parseNiftiHeader(bytes: Uint8Array): NiftiHeader {
  if (bytes.byteLength < NIFTI1_HEADER_SIZE) {
    throw new RtLiverError('NIFTI_TRUNCATED', `The NIfTI file is ${bytes.byteLength} bytes, shorter than a NIfTI header.`,
      'The file is truncated or not NIfTI; export it again.');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === NIFTI1_HEADER_SIZE) return parseVersion1(bytes, view, littleEndian);
    if (size === NIFTI2_HEADER_SIZE) return parseVersion2(bytes, view, littleEndian);
  }
  throw new RtLiverError('NIFTI_NOT_NIFTI', 'The file does not start with a NIfTI-1 or NIfTI-2 header (sizeof_hdr is neither 348 nor 540).',
    'Give a .nii or .nii.gz file (DICOM series are read from their folder).');
}

function parseVersion1(bytes: Uint8Array, view: DataView, le: boolean): NiftiHeader {
  const magic = text(bytes, 344, 4);
  if (magic !== 'n+1' && magic !== 'ni1') {
    throw new RtLiverError('NIFTI_NOT_NIFTI', `The NIfTI-1 header has the magic "${magic}", not "n+1".`, 'The file is damaged or not NIfTI.');
  }
  const f32 = (offset: number) => view.getFloat32(offset, le);
  return {
    version: 1,
    littleEndian: le,
    dim: Array.from({ length: 8 }, (_, i) => view.getInt16(40 + 2 * i, le)),
    datatype: view.getInt16(70, le),
    bitpix: view.getInt16(72, le),
    pixdim: Array.from({ length: 8 }, (_, i) => f32(76 + 4 * i)),
    voxOffset: f32(108),
    sclSlope: f32(112),
    sclInter: f32(116),
    xyztUnits: view.getUint8(123),
    descrip: text(bytes, 148, 80),
    qformCode: view.getInt16(252, le),
    sformCode: view.getInt16(254, le),
    quatern: [f32(256), f32(260), f32(264)],
    qoffset: [f32(268), f32(272), f32(276)],
    srow: [0, 1, 2].map((row) => [0, 1, 2, 3].map((col) => f32(280 + 16 * row + 4 * col))) as NiftiHeader['srow'],
    intentCode: view.getInt16(68, le),
    magic,
  };
}

function parseVersion2(bytes: Uint8Array, view: DataView, le: boolean): NiftiHeader {
  if (bytes.byteLength < NIFTI2_HEADER_SIZE) {
    throw new RtLiverError('NIFTI_TRUNCATED', 'The NIfTI-2 header is cut short.', 'The file is truncated; export it again.');
  }
  const magic = text(bytes, 4, 8);
  if (magic !== 'n+2' && magic !== 'ni2') {
    throw new RtLiverError('NIFTI_NOT_NIFTI', `The NIfTI-2 header has the magic "${magic}", not "n+2".`, 'The file is damaged or not NIfTI.');
  }
  const f64 = (offset: number) => view.getFloat64(offset, le);
  const i64 = (offset: number) => Number(view.getBigInt64(offset, le));
  return {
    version: 2,
    littleEndian: le,
    dim: Array.from({ length: 8 }, (_, i) => i64(16 + 8 * i)),
    datatype: view.getInt16(12, le),
    bitpix: view.getInt16(14, le),
    pixdim: Array.from({ length: 8 }, (_, i) => f64(104 + 8 * i)),
    voxOffset: i64(168),
    sclSlope: f64(176),
    sclInter: f64(184),
    descrip: text(bytes, 240, 80),
    qformCode: view.getInt32(344, le),
    sformCode: view.getInt32(348, le),
    quatern: [f64(352), f64(360), f64(368)],
    qoffset: [f64(376), f64(384), f64(392)],
    srow: [0, 1, 2].map((row) => [0, 1, 2, 3].map((col) => f64(400 + 32 * row + 8 * col))) as NiftiHeader['srow'],
    xyztUnits: view.getInt32(500, le),
    intentCode: view.getInt32(504, le),
    magic,
  };
}

/** A little-endian NIfTI-1 header for a single .nii file whose voxels start at byte 352. */
export function serializeNifti1Header(header: Omit<NiftiHeader, 'version' | 'littleEndian' | 'magic' | 'voxOffset'>): Uint8Array {
  const bytes = new Uint8Array(352); // 348 header bytes + 4 bytes of (empty) extension flag
  const view = new DataView(bytes.buffer);
  const le = true;
  view.setInt32(0, NIFTI1_HEADER_SIZE, le);
  bytes[38] = 'r'.charCodeAt(0); // "regular", as the ANALYZE-era readers expect
  header.dim.forEach((value, i) => view.setInt16(40 + 2 * i, value, le));
  view.setInt16(68, header.intentCode, le);
  view.setInt16(70, header.datatype, le);
  view.setInt16(72, header.bitpix, le);
  header.pixdim.forEach((value, i) => view.setFloat32(76 + 4 * i, value, le));
  view.setFloat32(108, 352, le);
  view.setFloat32(112, header.sclSlope, le);
  view.setFloat32(116, header.sclInter, le);
  view.setUint8(123, header.xyztUnits);
  const descrip = header.descrip.slice(0, 79);
  for (let i = 0; i < descrip.length; i++) bytes[148 + i] = descrip.charCodeAt(i) & 0x7f;
  view.setInt16(252, header.qformCode, le);
  view.setInt16(254, header.sformCode, le);
  header.quatern.forEach((value, i) => view.setFloat32(256 + 4 * i, value, le));
  header.qoffset.forEach((value, i) => view.setFloat32(268 + 4 * i, value, le));
  header.srow.forEach((row, r) => row.forEach((value, c) => view.setFloat32(280 + 16 * r + 4 * c, value, le)));
  bytes.set([0x6e, 0x2b, 0x31, 0x00], 344); // "n+1\0"
  return bytes;
}
