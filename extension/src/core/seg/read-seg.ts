/**
 * Reads a BINARY or FRACTIONAL DICOM SEG (ours or anyone's) back onto a given grid: the CT series the
 * SEG refers to. Each frame is placed by its own ImagePositionPatient (or, when a writer left that
 * out, by the position of the source image it references), never by its frame number.
 */
import dcmjs, { type NaturalDataset } from 'dcmjs';
import type { ImagePlane } from '../dicom/slice-geometry';
import { RtLiverError } from '../errors';
import { geometryOf, voxelCount, type Vec3, type Volume, type VolumeGeometry } from '../volume';
import { LIVER, SEGMENTATION_STORAGE_SOP_CLASS_UID, type CodedConcept } from './codes';
import { samplePlane } from './frame-mapping';
import { frameDecoder } from './seg-frames';
import { readAllSourceImages, sourceImageKey, type SegSourceImage } from './source-images';

export interface SegSegmentInfo {
  number: number;
  label: string;
  category?: CodedConcept;
  type?: CodedConcept;
  algorithmType?: string;
  algorithmName?: string;
}

export interface ReadSegOptions {
  /** The segment to read; by default the liver (SCT 10200004 or SRT T-62000), or the only segment. */
  segmentNumber?: number;
  /** The source CT files: needed only for SEGs whose frames carry no ImagePositionPatient. */
  sourceInstances?: ArrayBuffer[];
}

export interface ReadSegResult {
  /** 1 where the segment is present (FRACTIONAL: above half the maximum), on the given grid. */
  mask: Volume<Uint8Array>;
  segment: SegSegmentInfo;
  segments: SegSegmentInfo[];
  /** Frames of the chosen segment placed on the grid. */
  frameCount: number;
  sopInstanceUID: string;
  seriesInstanceUID: string;
  studyInstanceUID: string;
  segmentationType: 'BINARY' | 'FRACTIONAL';
}

const LIVER_CODES = new Set([`${LIVER.scheme}:${LIVER.value}`, 'SRT:T-62000']);

export async function readSeg(bytes: ArrayBuffer, grid: VolumeGeometry, options: ReadSegOptions = {}): Promise<ReadSegResult> {
  const { dataset, transferSyntaxUID } = parse(bytes);
  if (dataset.SOPClassUID !== SEGMENTATION_STORAGE_SOP_CLASS_UID) {
    throw new RtLiverError(
      'SEG_NOT_A_SEG',
      `The file is not a DICOM Segmentation (SOP Class ${String(dataset.SOPClassUID)}).`,
      dataset.SOPClassUID === '1.2.840.10008.5.1.4.1.1.66.7'
        ? 'It is a LABELMAP Segmentation, which this reader does not support.'
        : 'Pass a SEG file (Modality SEG).',
    );
  }
  const segmentationType = dataset.SegmentationType;
  if (segmentationType !== 'BINARY' && segmentationType !== 'FRACTIONAL') {
    throw new RtLiverError('SEG_UNSUPPORTED', `The SEG has SegmentationType ${String(segmentationType)}.`, 'Only BINARY and FRACTIONAL SEGs are read.');
  }
  const segments = asArray(dataset.SegmentSequence).map(segmentInfo);
  const segment = chooseSegment(segments, options.segmentNumber);

  const rows = Number(dataset.Rows);
  const columns = Number(dataset.Columns);
  const frameCount = Number(dataset.NumberOfFrames ?? 1);
  const bitsAllocated = Number(dataset.BitsAllocated);
  const decode = frameDecoder({
    transferSyntaxUID,
    rows,
    columns,
    frameCount,
    bitsAllocated,
    pixelData: pixelBuffers(dataset.PixelData),
  });
  // FRACTIONAL values run 0..MaximumFractionalValue; a voxel is in the segment above half of it.
  const threshold = segmentationType === 'FRACTIONAL' ? Number(dataset.MaximumFractionalValue ?? 255) / 2 : 0;

  const sources = sourcesByUid(options.sourceInstances);
  const shared = firstItem(dataset.SharedFunctionalGroupsSequence) ?? {};
  const perFrame = asArray(dataset.PerFrameFunctionalGroupsSequence);
  const voxels = new Uint8Array(voxelCount(grid));
  let placed = 0;
  for (let frame = 0; frame < frameCount; frame++) {
    const groups = perFrame[frame] ?? {};
    const group = (name: string) => firstItem(groups[name]) ?? firstItem(shared[name]);
    const segmentNumber = Number(group('SegmentIdentificationSequence')?.ReferencedSegmentNumber);
    if (segmentNumber !== segment.number) continue;
    const plane = frameGeometry(frame, rows, columns, group, sources);
    const sampling = samplePlane(plane, grid, `SEG frame ${frame + 1}`, 'inside');
    const pixels = await decode(frame);
    for (let row = 0; row < rows; row++) {
      let voxel = sampling.base + row * sampling.rowStride;
      const rowStart = row * columns;
      for (let column = 0; column < columns; column++, voxel += sampling.columnStride) {
        if (pixels[rowStart + column] > threshold) voxels[voxel] = 1;
      }
    }
    placed++;
  }
  return {
    mask: { ...geometryOf(grid), voxels },
    segment,
    segments,
    frameCount: placed,
    sopInstanceUID: String(dataset.SOPInstanceUID),
    seriesInstanceUID: String(dataset.SeriesInstanceUID),
    studyInstanceUID: String(dataset.StudyInstanceUID),
    segmentationType,
  };
}

/** The segments a SEG declares, without decoding any pixels. */
export function readSegSegments(bytes: ArrayBuffer): SegSegmentInfo[] {
  return asArray(parse(bytes).dataset.SegmentSequence).map(segmentInfo);
}

function parse(bytes: ArrayBuffer): { dataset: NaturalDataset; transferSyntaxUID: string } {
  try {
    const file = dcmjs.data.DicomMessage.readFile(bytes);
    const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(file.dict);
    const transferSyntaxUID = String(file.meta['00020010']?.Value?.[0] ?? '');
    return { dataset, transferSyntaxUID };
  } catch (error) {
    throw new RtLiverError(
      'SEG_UNREADABLE',
      `The SEG is not a readable DICOM Part-10 file (${error instanceof Error ? error.message : String(error)}).`,
      'Pass the .dcm file as stored (with its 128-byte preamble and "DICM").',
      { cause: error },
    );
  }
}

function frameGeometry(
  frame: number,
  rows: number,
  columns: number,
  group: (name: string) => NaturalDataset | undefined,
  sources: Map<string, SegSourceImage>,
): ImagePlane {
  const orientation = numbers(group('PlaneOrientationSequence')?.ImageOrientationPatient, 6);
  const spacing = numbers(group('PixelMeasuresSequence')?.PixelSpacing, 2);
  let position = numbers(group('PlanePositionSequence')?.ImagePositionPatient, 3) as Vec3 | undefined;
  const derivation = firstItem(group('DerivationImageSequence')?.SourceImageSequence);
  const frameNumber = derivation?.ReferencedFrameNumber === undefined ? undefined : Number(derivation.ReferencedFrameNumber);
  const referenced = derivation ? sources.get(sourceImageKey(String(derivation.ReferencedSOPInstanceUID), frameNumber)) : undefined;
  position ??= referenced?.position;
  const plane = {
    rows,
    columns,
    position,
    orientation: orientation ?? referenced?.orientation,
    pixelSpacing: spacing ?? referenced?.pixelSpacing,
  };
  if (!plane.position || !plane.orientation || !plane.pixelSpacing) {
    throw new RtLiverError(
      'SEG_NO_GEOMETRY',
      `SEG frame ${frame + 1} has no ImagePositionPatient, orientation or pixel spacing, and its source image is not known.`,
      'Pass the source CT files (sourceInstances) so frames can be placed through the images they reference.',
    );
  }
  return plane as ImagePlane;
}

function chooseSegment(segments: SegSegmentInfo[], wanted: number | undefined): SegSegmentInfo {
  const list = segments.map((segment) => `${segment.number} "${segment.label}"`).join(', ');
  if (wanted !== undefined) {
    const found = segments.find((segment) => segment.number === wanted);
    if (!found) throw new RtLiverError('SEG_NO_SEGMENT', `The SEG has no segment ${wanted} (it has ${list || 'none'}).`, 'Choose one of its segments.');
    return found;
  }
  const livers = segments.filter((segment) => segment.type && LIVER_CODES.has(`${segment.type.scheme}:${segment.type.value}`));
  if (livers.length === 1) return livers[0];
  if (segments.length === 1) return segments[0];
  throw new RtLiverError(
    'SEG_NO_SEGMENT',
    `The SEG has ${livers.length > 1 ? 'several liver segments' : 'no liver segment'} among ${list || 'no segments'}.`,
    'Name the segment to read (segmentNumber).',
  );
}

function segmentInfo(item: NaturalDataset): SegSegmentInfo {
  return {
    number: Number(item.SegmentNumber),
    label: String(item.SegmentLabel ?? ''),
    category: code(item.SegmentedPropertyCategoryCodeSequence),
    type: code(item.SegmentedPropertyTypeCodeSequence),
    algorithmType: item.SegmentAlgorithmType as string | undefined,
    algorithmName: item.SegmentAlgorithmName as string | undefined,
  };
}

function code(sequence: unknown): CodedConcept | undefined {
  const item = firstItem(sequence);
  if (!item) return undefined;
  return { value: String(item.CodeValue ?? ''), scheme: String(item.CodingSchemeDesignator ?? ''), meaning: String(item.CodeMeaning ?? '') };
}

function sourcesByUid(buffers: ArrayBuffer[] | undefined): Map<string, SegSourceImage> {
  const map = new Map<string, SegSourceImage>();
  for (const image of readAllSourceImages(buffers ?? [])) map.set(sourceImageKey(image.sopInstanceUID, image.frameNumber), image);
  return map;
}

/** dcmjs gives a one-item sequence as an object or as an array, depending on how it was read. */
function asArray(value: unknown): NaturalDataset[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]) as NaturalDataset[];
}

function pixelBuffers(value: unknown): ArrayBuffer[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  if (list.length === 0 || !list.every((item) => item instanceof ArrayBuffer)) {
    throw new RtLiverError('SEG_NO_PIXELS', 'The SEG has no readable PixelData.', 'The file is damaged or not an image SEG.');
  }
  return list as ArrayBuffer[];
}

function firstItem(value: unknown): NaturalDataset | undefined {
  return asArray(value)[0];
}

function numbers(value: unknown, count: number): number[] | undefined {
  const list = (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(Number);
  return list.length === count && list.every(Number.isFinite) ? list : undefined;
}

