/**
 * The liver DICOM SEG writer: a mask on the grid of a CT series becomes a BINARY Segmentation
 * (PS3.3 A.51) with one segment "Liver", in a new series of the source study.
 *
 * Why not dcmjs' `derivations.Segmentation`: it re-sorts the source images, throws on an empty mask
 * and hard-codes RESEARCH and an ImageComments warning, so most of it would have to be undone. The
 * dataset is small and fully specified by the standard, so it is built here and serialized with dcmjs'
 * data layer (which is what writes the bytes correctly). Frames are matched to source images by
 * position (see frame-mapping.ts), never by slice index.
 */
import dcmjs, { type NaturalDataset } from 'dcmjs';
import { distanceAlongNormal } from '../dicom/slice-geometry';
import { RtLiverError } from '../errors';
import type { Volume } from '../volume';
import { packNonEmptyFrames } from './bit-packing';
import {
  ANATOMICAL_STRUCTURE,
  ARTIFICIAL_INTELLIGENCE,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
  LIVER,
  LIVER_CIELAB,
  SEGMENTATION_DERIVATION,
  SEGMENTATION_STORAGE_SOP_CLASS_UID,
  SOURCE_IMAGE_FOR_PROCESSING,
  codeItem,
  type CodedConcept,
} from './codes';
import { readCopiedModules } from './copied-modules';
import { mapFramesToVolume, type FrameSampling } from './frame-mapping';
import { checkOneSeries, readAllSourceImages, sourceImageKey, type SourceInput, type SegSourceImage } from './source-images';
import { isValidUid, newUid } from './uid';

export interface SegAlgorithm {
  /** SegmentAlgorithmName, e.g. the model name from the manifest ("student-30k"). */
  name: string;
  /** AlgorithmVersion, e.g. the model's version or sha256 prefix. */
  version: string;
  /** AlgorithmFamilyCodeSequence; defaults to DCM 123110 "Artificial Intelligence". */
  family?: CodedConcept;
}

export interface SegDevice {
  manufacturer: string;
  modelName: string;
  softwareVersions: string;
  serialNumber: string;
}

export interface WriteLiverSegOptions {
  /**
   * The CT series in any order: Part-10 files (single-frame CT, or Enhanced CT), or the instances'
   * metadata as naturalized datasets (what a viewer holds, e.g. OHIF's instances). Read only.
   */
  sourceInstances: SourceInput[];
  /** Liver mask (non-zero = liver) on the grid those instances form, in any axis order. */
  mask: Volume<Uint8Array>;
  algorithm: SegAlgorithm;
  device: SegDevice;
  seriesDescription?: string;
  seriesNumber?: number;
  /** RESEARCH by default: the model is not a cleared medical device. */
  contentQualification?: 'RESEARCH' | 'PRODUCT';
  /** AUTOMATIC for model output, SEMIAUTOMATIC once a person has edited it. */
  algorithmType?: 'AUTOMATIC' | 'SEMIAUTOMATIC';
  /**
   * Fixed UIDs, for writing the same SEG again (a retry must not create a second instance in the
   * PACS). New 2.25 UIDs by default.
   */
  uids?: { sopInstanceUID?: string; seriesInstanceUID?: string };
  /** Content and instance creation date/time; now by default (fix it for byte-identical output). */
  createdAt?: Date;
}

export type WriteLiverSegResult =
  | {
      status: 'written';
      /** The SEG as a Part-10 file (Explicit VR Little Endian). */
      bytes: ArrayBuffer;
      sopInstanceUID: string;
      seriesInstanceUID: string;
      studyInstanceUID: string;
      /** Frames written: one per source image that contains liver. */
      frameCount: number;
    }
  | { status: 'empty'; message: 'no liver found' };

const DEFAULT_SERIES_DESCRIPTION = 'Liver segmentation (rt-liver)';
const DEFAULT_SERIES_NUMBER = 901;

export function writeLiverSeg(options: WriteLiverSegOptions): WriteLiverSegResult {
  checkOptions(options);
  const { mask } = options;
  const instances = readAllSourceImages(options.sourceInstances);
  checkOneSeries(instances);
  const samplings = mapFramesToVolume(instances, mask);
  // Frames go in a fixed order (ascending along the slice normal), independent of the input order.
  samplings.sort((a, b) => distanceAlongNormal(a.instance) - distanceAlongNormal(b.instance));
  const { rows, columns } = instances[0];
  const packed = packNonEmptyFrames(mask.voxels, samplings, rows, columns);
  if (packed.frames.length === 0) return { status: 'empty', message: 'no liver found' };

  const first = instances[0];
  const sopInstanceUID = options.uids?.sopInstanceUID ?? newUid();
  const seriesInstanceUID = options.uids?.seriesInstanceUID ?? newUid();
  const createdAt = options.createdAt ?? new Date();
  const copied = readCopiedModules(options.sourceInstances[first.inputIndex]);
  const positionIndex = new Map(samplings.map(({ instance }, index) => [sourceImageKey(instance.sopInstanceUID, instance.frameNumber), index + 1]));

  const dataset: NaturalDataset = {
    ...copied,
    _vrMap: { PixelData: 'OB' },
    SOPClassUID: SEGMENTATION_STORAGE_SOP_CLASS_UID,
    SOPInstanceUID: sopInstanceUID,
    InstanceCreationDate: dicomDate(createdAt),
    InstanceCreationTime: dicomTime(createdAt),
    TimezoneOffsetFromUTC: '+0000',
    // Series
    Modality: 'SEG',
    SeriesInstanceUID: seriesInstanceUID,
    SeriesNumber: options.seriesNumber ?? DEFAULT_SERIES_NUMBER,
    SeriesDescription: options.seriesDescription ?? DEFAULT_SERIES_DESCRIPTION,
    SeriesDate: dicomDate(createdAt),
    SeriesTime: dicomTime(createdAt),
    // Equipment (General + Enhanced General Equipment)
    Manufacturer: options.device.manufacturer,
    ManufacturerModelName: options.device.modelName,
    DeviceSerialNumber: options.device.serialNumber,
    SoftwareVersions: options.device.softwareVersions,
    // Image
    ImageType: ['DERIVED', 'PRIMARY'],
    InstanceNumber: 1,
    ContentDate: dicomDate(createdAt),
    ContentTime: dicomTime(createdAt),
    ContentQualification: options.contentQualification ?? 'RESEARCH',
    ContentLabel: 'LIVER',
    ContentDescription: `Liver segmented by ${options.algorithm.name} ${options.algorithm.version}`.slice(0, 64),
    ContentCreatorName: '',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: rows,
    Columns: columns,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: 'BINARY',
    SegmentsOverlap: 'NO',
    SegmentSequence: [segmentItem(options)],
    NumberOfFrames: packed.frames.length,
    ReferencedSeriesSequence: referencedSeries(samplings),
    ...dimensionOrganization(sopInstanceUID),
    SharedFunctionalGroupsSequence: [sharedFunctionalGroups(first, samplings)],
    PerFrameFunctionalGroupsSequence: packed.frames.map((sampling) => perFrameFunctionalGroups(sampling, positionIndex)),
    PixelData: packed.bytes.slice().buffer,
  };
  const meta: NaturalDataset = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: SEGMENTATION_STORAGE_SOP_CLASS_UID,
    MediaStorageSOPInstanceUID: sopInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
  };
  const file = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
  file.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
  return {
    status: 'written',
    bytes: file.write(),
    sopInstanceUID,
    seriesInstanceUID,
    studyInstanceUID: first.studyInstanceUID,
    frameCount: packed.frames.length,
  };
}

function segmentItem(options: WriteLiverSegOptions): NaturalDataset {
  const { algorithm } = options;
  return {
    SegmentNumber: 1,
    SegmentLabel: 'Liver',
    SegmentedPropertyCategoryCodeSequence: [codeItem(ANATOMICAL_STRUCTURE)],
    SegmentedPropertyTypeCodeSequence: [codeItem(LIVER)],
    SegmentAlgorithmType: options.algorithmType ?? 'AUTOMATIC',
    SegmentAlgorithmName: algorithm.name,
    SegmentationAlgorithmIdentificationSequence: [
      {
        AlgorithmFamilyCodeSequence: [codeItem(algorithm.family ?? ARTIFICIAL_INTELLIGENCE)],
        AlgorithmName: algorithm.name,
        AlgorithmVersion: algorithm.version,
      },
    ],
    RecommendedDisplayCIELabValue: LIVER_CIELAB,
  };
}

function sharedFunctionalGroups(first: SegSourceImage, sortedSamplings: FrameSampling[]): NaturalDataset {
  const pixelMeasures: NaturalDataset = { PixelSpacing: first.pixelSpacingText };
  const planeSpacing =
    sortedSamplings.length > 1
      ? Math.abs(distanceAlongNormal(sortedSamplings[1].instance) - distanceAlongNormal(sortedSamplings[0].instance))
      : undefined;
  // The source's SliceThickness when it has one, otherwise the distance between planes (the thickness
  // each frame stands for); SpacingBetweenSlices lets readers rebuild the volume without the CT.
  const thickness = first.sliceThicknessText ?? (planeSpacing ? formatDecimal(planeSpacing) : undefined);
  if (thickness) pixelMeasures.SliceThickness = thickness;
  if (planeSpacing) pixelMeasures.SpacingBetweenSlices = formatDecimal(planeSpacing);
  return {
    PlaneOrientationSequence: [{ ImageOrientationPatient: first.orientationText }],
    PixelMeasuresSequence: [pixelMeasures],
  };
}

function perFrameFunctionalGroups(sampling: FrameSampling, positionIndex: Map<string, number>): NaturalDataset {
  const { instance } = sampling;
  return {
    DerivationImageSequence: [
      {
        SourceImageSequence: [
          {
            ReferencedSOPClassUID: instance.sopClassUID,
            ReferencedSOPInstanceUID: instance.sopInstanceUID,
            ...(instance.frameNumber !== undefined ? { ReferencedFrameNumber: instance.frameNumber } : {}),
            PurposeOfReferenceCodeSequence: [codeItem(SOURCE_IMAGE_FOR_PROCESSING)],
          },
        ],
        DerivationCodeSequence: [codeItem(SEGMENTATION_DERIVATION)],
      },
    ],
    FrameContentSequence: [{ DimensionIndexValues: [1, positionIndex.get(sourceImageKey(instance.sopInstanceUID, instance.frameNumber))] }],
    PlanePositionSequence: [{ ImagePositionPatient: instance.positionText }],
    SegmentIdentificationSequence: [{ ReferencedSegmentNumber: 1 }],
  };
}

/**
 * Every source instance, grouped by series, as the Common Instance Reference module asks: each SOP
 * instance once (a multi-frame instance holds several images), in frame order.
 */
function referencedSeries(samplings: FrameSampling[]): NaturalDataset[] {
  const bySeries = new Map<string, Map<string, SegSourceImage>>();
  for (const { instance } of samplings) {
    const series = bySeries.get(instance.seriesInstanceUID) ?? new Map<string, SegSourceImage>();
    bySeries.set(instance.seriesInstanceUID, series);
    if (!series.has(instance.sopInstanceUID)) series.set(instance.sopInstanceUID, instance);
  }
  return [...bySeries].map(([seriesInstanceUID, instances]) => ({
    SeriesInstanceUID: seriesInstanceUID,
    ReferencedInstanceSequence: [...instances.values()].map((instance) => ({
      ReferencedSOPClassUID: instance.sopClassUID,
      ReferencedSOPInstanceUID: instance.sopInstanceUID,
    })),
  }));
}

/** Multi-frame dimensions: segment, then position (as dcmqi and highdicom do). */
function dimensionOrganization(sopInstanceUID: string): NaturalDataset {
  // Derived from the SOP Instance UID so that writing again with the same UIDs gives the same bytes.
  const derived = `${sopInstanceUID}.1`;
  const organizationUID = derived.length <= 64 ? derived : newUid();
  const dimension = (pointer: number, group: number, label: string) => ({
    DimensionOrganizationUID: organizationUID,
    DimensionIndexPointer: pointer,
    FunctionalGroupPointer: group,
    DimensionDescriptionLabel: label,
  });
  return {
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: organizationUID }],
    DimensionIndexSequence: [
      // ReferencedSegmentNumber in SegmentIdentificationSequence
      dimension(0x0062000b, 0x0062000a, 'ReferencedSegmentNumber'),
      // ImagePositionPatient in PlanePositionSequence
      dimension(0x00200032, 0x00209113, 'ImagePositionPatient'),
    ],
  };
}

function checkOptions(options: WriteLiverSegOptions): void {
  const { mask, device, algorithm } = options;
  const expected = mask.dimensions[0] * mask.dimensions[1] * mask.dimensions[2];
  if (!(mask.voxels instanceof Uint8Array) || mask.voxels.length !== expected) {
    throw new RtLiverError(
      'SEG_INVALID_MASK',
      `The mask must be a Uint8Array of ${expected} voxels (${mask.dimensions.join('x')}); got ${mask.voxels?.length ?? 'none'}.`,
      'Pass the mask as computed on the CT grid, one byte per voxel.',
    );
  }
  const required: Array<[string, string | undefined]> = [
    ['device.manufacturer', device?.manufacturer],
    ['device.modelName', device?.modelName],
    ['device.softwareVersions', device?.softwareVersions],
    ['device.serialNumber', device?.serialNumber],
    ['algorithm.name', algorithm?.name],
    ['algorithm.version', algorithm?.version],
  ];
  for (const [name, value] of required) {
    if (!value || !value.trim()) {
      throw new RtLiverError(
        'SEG_INVALID_OPTIONS',
        `${name} is empty.`,
        'A SEG must name the device and algorithm that made it (Enhanced General Equipment, Segment Algorithm Identification).',
      );
    }
  }
  // All of these are LO (Long String): at most 64 characters, no backslash (the value separator).
  const longStrings: Array<[string, string | undefined]> = [...required, ['seriesDescription', options.seriesDescription]];
  for (const [name, value] of longStrings) {
    if (value !== undefined && (value.length > 64 || value.includes('\\'))) {
      throw new RtLiverError('SEG_INVALID_OPTIONS', `${name} "${value.slice(0, 80)}" is not a valid DICOM LO value.`, 'Use at most 64 characters and no backslash.');
    }
  }
  for (const [name, uid] of Object.entries(options.uids ?? {})) {
    if (uid !== undefined && !isValidUid(uid)) {
      throw new RtLiverError('SEG_INVALID_OPTIONS', `uids.${name} "${uid}" is not a valid DICOM UID.`, 'Use digits and dots, at most 64 characters.');
    }
  }
}

function dicomDate(date: Date): string {
  return date.toISOString().slice(0, 10).replace(/-/g, '');
}

function dicomTime(date: Date): string {
  return date.toISOString().slice(11, 19).replace(/:/g, '');
}

function formatDecimal(value: number): string {
  return Number(value.toPrecision(10)).toString();
}
