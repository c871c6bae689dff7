/**
 * DICOM SEG for the liver: write (from a mask on a CT series), read (any BINARY/FRACTIONAL SEG back
 * onto a grid) and store (STOW-RS). Platform-neutral: ArrayBuffers (or instance metadata) in,
 * ArrayBuffers out; no DOM, no node: APIs.
 */
export { writeLiverSeg } from './write-seg';
export type { WriteLiverSegOptions, WriteLiverSegResult, SegAlgorithm, SegDevice } from './write-seg';
export { LIVER, ANATOMICAL_STRUCTURE, ARTIFICIAL_INTELLIGENCE, SEGMENTATION_STORAGE_SOP_CLASS_UID } from './codes';
export type { CodedConcept } from './codes';
export { newUid } from './uid';
export { readSeg, readSegSegments } from './read-seg';
export type { ReadSegOptions, ReadSegResult, SegSegmentInfo } from './read-seg';
export { gridOfSourceInstances } from './source-grid';
export { stowInstances, StowError } from './stow';
export type { StowOptions, StowResult, StowFailure } from './stow';
export type { SourceInput, SourceInstanceMetadata } from './source-images';
