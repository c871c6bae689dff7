/**
 * The whole segmentation, the same in the browser worker and in the CLI:
 *   verified model bytes -> session (once), then per volume: pre-process -> inference -> post-process.
 * Every stage is timed; the result names the backend that really ran (after any WebGPU fallback).
 */
import { RtLiverError } from '../errors';
import { geometryOf, voxelVolumeMl, type Volume, type VolumeGeometry } from '../volume';
import { type BackendChoice, type InferenceSession, type SessionFactory } from './inference';
import { type ModelEntry, verifyModelBytes } from './manifest';
import {
  bodyBox, clearBeyondGrid, cropBox, endSliceAreasMm2, isPadded, mayNarrowField, narrowedField, paddedBox, paddedField, placeBox, shiftBox, sliceBox,
  type Box, type NarrowedField, type PaddedField,
} from './field-of-view';
import { countNonFinite, cutLiverWarnings, inputWarnings, maskAboveDiaphragmMl, maskOnModelGrid, resultWarnings } from './guard-rails';
import { postprocess } from './postprocess';
import { preprocess, type PreprocessedInput } from './preprocess';

/** A model whose bytes passed the sha256 check, with an open session. */
export interface PreparedModel {
  entry: ModelEntry;
  session: InferenceSession;
  timings_ms: { verify_sha256: number; create_session: number };
}

export type Stage = 'preprocess' | 'inference' | 'postprocess';

export interface SegmentOptions {
  /** Called when a stage starts, for progress displays. */
  onStage?: (stage: Stage) => void;
  /**
   * CPU time of this process in ms (Node: process.cpuUsage), when the host can tell. Adds `cpu_ms`
   * per stage: on a busy machine wall times grow with the load, CPU times much less (inference
   * counts all its threads).
   */
  cpuClock?: () => number;
  /**
   * For one-shot callers (the CLI): dispose the model's session as soon as inference is done, so the
   * runtime's activation buffers are freed before post-processing needs memory (about 60 MB less at
   * the peak for a 512 x 512 x 51 CT). The PreparedModel cannot be used again afterwards.
   */
  disposeSessionAfterInference?: boolean;
  /**
   * Segment a long series (abdomen-pelvis, whole body) a second time on the slices around the liver
   * the first pass found (field-of-view.ts). On by default; false gives the single pass.
   */
  narrowField?: boolean;
  /** Leave out the air around the body of a wide reconstruction field (field-of-view.ts). On by default. */
  cropToBody?: boolean;
  /** Give the model a short series padded to its shortest training field (field-of-view.ts). On by default. */
  padField?: boolean;
}

export interface StageCpuTimes {
  preprocess: number;
  inference: number;
  postprocess: number;
}

export interface SegmentationTimings {
  preprocess: number;
  inference: number;
  upsample: number;
  largest_component: number;
  fill_holes: number;
  scatter: number;
  postprocess: number;
  /** The whole first pass, when a second pass on a narrower field followed (the other stages are the second's). */
  first_pass?: number;
  total: number;
}

export interface SegmentationResult {
  /** Liver = 1, on the input volume's own grid and geometry. */
  mask: Volume<Uint8Array>;
  volumeMl: number;
  voxels: number;
  backend: string;
  model: string;
  timings_ms: SegmentationTimings;
  /** Only with SegmentOptions.cpuClock. */
  cpu_ms?: StageCpuTimes;
  warnings: string[];
  /** Set when the mask comes from a second pass on the slices around the liver (field-of-view.ts). */
  narrowedField?: NarrowedField;
  /**
   * Set when the model saw only the box around the body of a wide reconstruction field: the box on the input's
   * grid (within the second pass's slices when there was one).
   */
  bodyBox?: Box;
  /** Set when the series was shorter than the model's shortest field and the model saw it padded. */
  paddedField?: PaddedField;
}

/** Checks the bytes against the manifest, then opens a session on the requested backend. */
export async function prepareModel(
  entry: ModelEntry,
  bytes: Uint8Array,
  backend: BackendChoice,
  createSession: SessionFactory,
): Promise<PreparedModel> {
  let t = performance.now();
  await verifyModelBytes(entry, bytes);
  const verify = performance.now() - t;
  t = performance.now();
  let session: InferenceSession;
  try {
    session = await createSession({ model: entry, bytes, backend });
  } catch (error) {
    throw new RtLiverError(
      'BACKEND_UNAVAILABLE',
      `Could not start the ${backend} backend for model "${entry.name}": ${error instanceof Error ? error.message : String(error)}.`,
      backend === 'auto' ? 'Check that onnxruntime is installed (scripts/setup.sh).' : 'Try --backend auto.',
      { cause: error },
    );
  }
  return { entry, session, timings_ms: { verify_sha256: verify, create_session: performance.now() - t } };
}

function checkVolume(volume: Volume): void {
  const [nx, ny, nz] = volume.dimensions;
  if (volume.voxels.length !== nx * ny * nz) {
    throw new RtLiverError(
      'VOLUME_INVALID',
      `The volume has ${volume.voxels.length} voxels but its dimensions ${nx}x${ny}x${nz} need ${nx * ny * nz}.`,
      'The input reader produced an inconsistent volume; report this with the input.',
    );
  }
  if (nx < 2 || ny < 2 || nz < 2) {
    throw new RtLiverError(
      'VOLUME_TOO_SMALL',
      `The volume is ${nx}x${ny}x${nz} voxels; liver segmentation needs a 3-D CT with at least 2 voxels along each axis.`,
      'Give the whole CT series (all slices), not a single image.',
    );
  }
}

/** A volume resampled to the model's input, with what post-processing needs of the source (not its voxels). */
export interface PreprocessedVolume {
  input: PreprocessedInput;
  /** The grid the model's input was resampled from: the source, or a box of it (around its body, or padded). */
  source: VolumeGeometry;
  /** The source volume's grid when the model saw `box` of it: the mask is returned on `whole`. */
  whole?: { geometry: VolumeGeometry; box: Box };
  /** The in-plane crop around the body, within the source's grid. */
  bodyBox?: Box;
  preprocessMs: number;
  cpuPreprocessMs: number;
  /** Voxels of the source that are NaN or infinite (float inputs only), and the source's voxel count. */
  nonFiniteVoxels: number;
  sourceVoxels: number;
}

/**
 * The first stage: checks the volume and resamples it to the model's input. A one-shot caller (the
 * CLI) can let the CT's voxels go after this, before inference needs its memory.
 */
export function preprocessVolume(volume: Volume, model: PreparedModel, options: SegmentOptions = {}): PreprocessedVolume {
  checkVolume(volume);
  const cpu = options.cpuClock ?? (() => 0);
  const cpuStart = cpu();
  options.onStage?.('preprocess');
  const t = performance.now();
  const crop = options.cropToBody === false ? null : bodyBox(volume);
  const box = (options.padField === false ? null : paddedBox(volume, crop)) ?? crop;
  const seen = box ? cropBox(volume, box) : volume;
  const input = preprocess(seen, model.entry.input);
  const nonFiniteVoxels = countNonFinite(volume.voxels);
  return {
    input,
    source: geometryOf(seen),
    whole: box ? { geometry: geometryOf(volume), box } : undefined,
    bodyBox: crop ?? undefined,
    preprocessMs: performance.now() - t,
    cpuPreprocessMs: cpu() - cpuStart,
    nonFiniteVoxels,
    sourceVoxels: volume.voxels.length,
  };
}

/** The whole segmentation of one volume: preprocessVolume, then segmentPreprocessed. */
export async function segmentLiver(volume: Volume, model: PreparedModel, options: SegmentOptions = {}): Promise<SegmentationResult> {
  return segmentPreprocessed(preprocessVolume(volume, model, options), model, options, volume);
}

/**
 * Inference and post-processing of a preprocessed volume; timings include its pre-processing. With the
 * source `volume` (still holding its voxels) a long series gets a second pass on the slices around the
 * liver; a caller that freed the voxels (mayNarrowField said it could) gets the single pass.
 */
export async function segmentPreprocessed(
  preprocessed: PreprocessedVolume,
  model: PreparedModel,
  options: SegmentOptions = {},
  volume?: Volume,
): Promise<SegmentationResult> {
  const result = await segmentInPasses(preprocessed, model, options, volume);
  result.warnings.push(...cutLiverWarnings(endSliceAreasMm2(result.mask), result.volumeMl));
  return result;
}

/** One pass, or two on a long series (field-of-view.ts). */
async function segmentInPasses(
  preprocessed: PreprocessedVolume,
  model: PreparedModel,
  options: SegmentOptions,
  volume?: Volume,
): Promise<SegmentationResult> {
  const mayNarrow = volume !== undefined && options.narrowField !== false && mayNarrowField(volume);
  const first = await segmentOnce(preprocessed, model, mayNarrow ? { ...options, disposeSessionAfterInference: false } : options);
  if (!mayNarrow) return first;
  const field = narrowedField(first.mask);
  if (!field) {
    if (options.disposeSessionAfterInference) await model.session.dispose();
    return first;
  }
  const slices = sliceBox(volume.dimensions, field);
  const second = await segmentOnce(preprocessVolume(cropBox(volume, slices), model, options), model, options);
  // A second pass that lost the liver altogether is not a better answer than the first.
  if (second.voxels === 0) return first;
  const warnings = [...inputWarnings(preprocessed.input.summary, preprocessed.nonFiniteVoxels, preprocessed.sourceVoxels), ...second.warnings];
  return {
    ...second,
    mask: placeBox(second.mask, geometryOf(volume), slices),
    warnings: [...new Set(warnings)],
    narrowedField: field,
    bodyBox: second.bodyBox && shiftBox(second.bodyBox, slices.start),
    timings_ms: { ...second.timings_ms, first_pass: first.timings_ms.total, total: first.timings_ms.total + second.timings_ms.total },
    cpu_ms: first.cpu_ms && second.cpu_ms ? sumCpu(first.cpu_ms, second.cpu_ms) : undefined,
  };
}

function sumCpu(a: StageCpuTimes, b: StageCpuTimes): StageCpuTimes {
  return { preprocess: a.preprocess + b.preprocess, inference: a.inference + b.inference, postprocess: a.postprocess + b.postprocess };
}

/** One pass: inference and post-processing of one preprocessed volume. */
async function segmentOnce(preprocessed: PreprocessedVolume, model: PreparedModel, options: SegmentOptions): Promise<SegmentationResult> {
  const { input, source } = preprocessed;
  const warnings: string[] = [];
  if (model.entry.placeholder) {
    warnings.push(`Model "${model.entry.name}" is a placeholder (${model.entry.description || 'untrained'}): its mask is not a liver segmentation.`);
  }
  if (model.entry.caution) warnings.push(`Model "${model.entry.name}": ${model.entry.caution}`);
  warnings.push(...inputWarnings(input.summary, preprocessed.nonFiniteVoxels, preprocessed.sourceVoxels));
  const start = performance.now();
  const cpu = options.cpuClock ?? (() => 0);
  const cpuPreprocessed = cpu();

  options.onStage?.('inference');
  let t = performance.now();
  const logits = await model.session.run(input.tensor, input.shape);
  const inferenceMs = performance.now() - t;
  const cpuInferred = cpu();
  if (options.disposeSessionAfterInference) await model.session.dispose();
  // Every result repeats why its backend is not the one asked for (WebGPU missing or failed).
  warnings.push(...model.session.warnings);

  options.onStage?.('postprocess');
  t = performance.now();
  const [, , depth, height, width] = input.shape;
  const post = postprocess({
    logits: logits.data,
    modelShape: [depth, height, width],
    source,
    reorientation: input.reorientation,
    canonicalDims: input.canonicalGeometry.dimensions,
  });
  const whole = preprocessed.whole;
  const padded = whole && isPadded(whole.box, whole.geometry.dimensions) ? paddedField(whole.geometry, whole.box) : undefined;
  if (whole && padded) {
    // The liver counted, and checked against the diaphragm, is the part inside the series.
    post.voxels = clearBeyondGrid(post.mask, whole.box, whole.geometry.dimensions);
    post.volumeMl = post.voxels * voxelVolumeMl(whole.geometry);
  }
  // A pass that saw a box of the series (around the body, or padded) returns its mask on the series' grid.
  const mask = whole ? placeBox(post.mask, whole.geometry, whole.box) : post.mask;
  const postprocessMs = performance.now() - t;
  const cpuDone = cpu();
  warnings.push(...post.warnings);
  const aboveDiaphragmMl = input.summary && post.voxels > 0
    ? maskAboveDiaphragmMl(input.summary, maskOnModelGrid(post.mask, input.reorientation, input.summary.dims))
    : undefined;
  warnings.push(...resultWarnings(post.volumeMl, aboveDiaphragmMl));

  return {
    mask,
    volumeMl: post.volumeMl,
    voxels: post.voxels,
    backend: model.session.backend,
    model: model.entry.name,
    bodyBox: preprocessed.bodyBox,
    paddedField: padded,
    timings_ms: {
      preprocess: preprocessed.preprocessMs,
      inference: inferenceMs,
      ...post.timings,
      postprocess: postprocessMs,
      total: preprocessed.preprocessMs + performance.now() - start,
    },
    cpu_ms: options.cpuClock
      ? { preprocess: preprocessed.cpuPreprocessMs, inference: cpuInferred - cpuPreprocessed, postprocess: cpuDone - cpuInferred }
      : undefined,
    warnings,
  };
}
