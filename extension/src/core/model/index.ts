/** Model manifest, pre-processing, inference backends, post-processing and the segmentation pipeline. */
export * from './manifest';
export * from './inference';
export { ortWebSessionFactory, type OrtWebOptions, type OrtWebModule } from './ort-web';
export { preprocess, applyHuWindow, type PreprocessedInput } from './preprocess';
export { postprocess, type PostprocessResult } from './postprocess';
export { lpsReorientation, reorientGeometry, canonicalView, type Reorientation } from './orientation';
export { prepareModel, segmentLiver, type PreparedModel, type SegmentationResult, type SegmentationTimings, type Stage } from './pipeline';
export { SegmentationWorkerClient, type WorkerLike } from './worker-client';
export type { WorkerRequest, WorkerResponse } from './worker-protocol';
export { compareMasks, hausdorff95, binarize, resampleMaskNearest, type MaskAgreement } from './evaluate';
