/**
 * rt-liver segment <dicom-folder|file.nii[.gz]>: the liver mask, its volume in mL, and optionally the
 * mask as NIfTI (--mask) and a DICOM SEG (--out) on the input's own grid.
 */
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { RtLiverError } from '../../../extension/src/core/errors';
import { inputLimits } from '../../../extension/src/core/limits';
import type { BackendChoice } from '../../../extension/src/core/model/inference';
import {
  prepareModel,
  preprocessVolume,
  segmentPreprocessed,
  type PreparedModel,
  type PreprocessedVolume,
  type SegmentationResult,
  type SegmentOptions as SegmentPipelineOptions,
  type Stage,
} from '../../../extension/src/core/model/pipeline';
import { describePaddedField, mayNarrowField } from '../../../extension/src/core/model/field-of-view';
import { hasNoBody, inputWarnings, isBlank, isNotHounsfield } from '../../../extension/src/core/model/guard-rails';
import { geometryOf, type Vec3, type Volume, type VolumeGeometry } from '../../../extension/src/core/volume';
import { nodeSessionFactory } from '../backends';
import { isNiftiPath, loadInput, type LoadedInput, type LoadInputOptions } from '../io';
import { readSegSourceFiles } from '../seg-sources';
import { OutputWriter, planOutputs, type OutputRequest, type PlannedOutput } from '../outputs';
import { releaseMemoryNow } from '../memory';
import { readModel } from '../models';
import { createProgress, type Progress } from '../progress';
import { checkMaskName, encodeMaskFile } from '../write-mask';
import { pacsFromEnvironment, storeSeg, uidFromContent, type PacsTarget } from '../store';
import { CLI_VERSION } from '../version';

export interface SegmentOptions {
  mask?: string;
  out?: string;
  model?: string;
  series?: string;
  backend: BackendChoice;
  json?: boolean;
  quiet?: boolean;
  threads?: number;
  modelsDir: string;
  /** Replace outputs that exist already. */
  force?: boolean;
  /** Send the SEG to the configured PACS (RT_LIVER_PACS_URL ...). */
  store?: boolean;
  /** No second pass on the slices around the liver for a long series (core/model/field-of-view.ts). */
  singlePass?: boolean;
  /** No crop of the air around the body of a wide field (core/model/field-of-view.ts). */
  wholeField?: boolean;
  /** Give the model a short series as it is, not padded to its shortest field. */
  unpadded?: boolean;
  maxFrames?: number;
  maxVoxels?: number;
  maxDecompressedMb?: number;
}

export interface SegmentReport {
  volume_ml: number;
  backend: string;
  model: string;
  timings_ms: Record<string, number>;
  voxels: number;
  /**
   * Resident memory of this process (MB): when the command started (Node and the CLI's modules),
   * its peak, and the CT's own voxels for scale. `peak_stage` names the stage during which the peak
   * was reached: inference for small CTs (the model's fixed working set), reading or post-processing
   * for large ones.
   */
  memory_mb: { rss_at_start: number; peak_rss: number; ct_voxels: number; peak_stage: PeakStage };
  /**
   * CPU time (user + system, all threads) of the whole process and of the pipeline's stages, and the
   * 1-minute load average: context for the wall times on a shared machine.
   */
  cpu_ms: { user: number; system: number; preprocess: number; inference: number; postprocess: number };
  load_average: number;
  input: { path: string; kind: string; dimensions: Vec3; spacing: Vec3; series_instance_uid?: string };
  /**
   * Present when the series was long and the mask comes from a second pass on the slices around the
   * liver: which index axis, the slices [start, stop), and the head-feet length of the series and of them.
   */
  narrowed_field?: { axis: number; slices: [number, number]; series_mm: number; kept_mm: number };
  /** Present when the model saw only the box around the body of a wide field: voxel index ranges [start, stop) per axis. */
  body_box?: { start: Vec3; stop: Vec3 };
  /** Head-feet length of the series and of what the model saw, when it was padded to the model's shortest field. */
  padded_field?: { series_mm: number; seen_mm: number };
  outputs: {
    mask?: string;
    seg?: string;
    /** --store: the SEG as the PACS stored it. */
    stored?: { pacs: string; study_instance_uid: string; sop_instance_uid: string; retrieve_urls: string[]; warnings: string[] };
  };
  warnings: string[];
}

type PeakStage = 'load_input' | 'load_model' | 'preprocess' | 'inference' | 'postprocess' | 'write';

/**
 * The process's peak resident memory after each stage. The peak only grows, so the stage that raised it
 * last is the first whose recorded peak equals the final one.
 */
function peakRssByStage() {
  const peaks: Array<[PeakStage, number]> = [];
  return {
    after(stage: PeakStage): void {
      peaks.push([stage, process.resourceUsage().maxRSS]);
    },
    stageOfPeak(): PeakStage {
      const final = process.resourceUsage().maxRSS;
      return (peaks.find(([, peak]) => peak >= final) ?? peaks[peaks.length - 1])[0];
    },
  };
}

/** memory_mb in the report is in MiB (what `ps` and `top` call MB): bytes and KiB per MiB. */
const BYTES_PER_MB = 1024 * 1024;
/** process.resourceUsage().maxRSS is in KiB. */
const KIB_PER_MB = 1024;
/** process.cpuUsage() reports microseconds; the report gives milliseconds. */
const MICROSECONDS_PER_MS = 1000;

/** Rounded to 0.1: memory figures vary by more than that from run to run. */
function tenthsOf(value: number): number {
  return Math.round(value * 10) / 10;
}

function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / MICROSECONDS_PER_MS;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** The SEG of the mask, in memory; undefined when the mask is empty (a SEG needs a segmented frame). */
async function buildSeg(loaded: InputWithoutVoxels, inputPath: string, result: SegmentationResult, prepared: PreparedModel): Promise<{ bytes: ArrayBuffer; sopInstanceUID: string; studyInstanceUID: string } | undefined> {
  if (loaded.kind !== 'dicom') throw segNeedsDicom(inputPath, '--out');
  const folder = statSync(inputPath).isDirectory() ? inputPath : dirname(inputPath);
  const sourceInstances = readSegSourceFiles(folder, loaded.slices.map((slice) => slice.fileName));
  // The SEG writer (and dcmjs, ~50 ms to load) only when --out or --store asks for it.
  const { writeLiverSeg } = await import('../../../extension/src/core/seg');
  // UIDs from the content: the same series, model and mask make the same SEG instance, so storing
  // it again (a retry, or the command run again) leaves one instance in the PACS.
  const seriesUid = loaded.series.seriesInstanceUID ?? loaded.slices[0]?.sopInstanceUID ?? '';
  const seg = writeLiverSeg({
    sourceInstances,
    mask: result.mask,
    algorithm: { name: prepared.entry.name, version: prepared.entry.sha256.slice(0, 16) },
    device: { manufacturer: 'rt-liver', modelName: 'rt-liver CLI', softwareVersions: CLI_VERSION, serialNumber: 'none' },
    uids: {
      sopInstanceUID: uidFromContent('rt-liver SEG instance', seriesUid, prepared.entry.sha256, result.mask.voxels),
      seriesInstanceUID: uidFromContent('rt-liver SEG series', seriesUid, prepared.entry.sha256),
    },
  });
  return seg.status === 'written' ? seg : undefined;
}

function segNeedsDicom(inputPath: string, option: string): RtLiverError {
  return new RtLiverError(
    'SEG_NEEDS_DICOM',
    `${option} writes a DICOM SEG, which refers to the CT images it segments; ${inputPath} is NIfTI.`,
    'Segment the DICOM series instead, or use --mask for a NIfTI mask.',
  );
}

/**
 * Everything about the outputs that can be checked before the input is read: names, folders, links,
 * existing files, the input itself. A mistake there costs a second, not a whole run.
 */
function planCommandOutputs(inputPath: string, options: SegmentOptions): { mask?: PlannedOutput; seg?: PlannedOutput; pacs?: PacsTarget } {
  if (options.mask) checkMaskName(options.mask);
  if (isNiftiPath(inputPath)) {
    if (options.out) throw segNeedsDicom(inputPath, '--out');
    if (options.store) throw segNeedsDicom(inputPath, '--store');
  }
  const requests: OutputRequest[] = [];
  if (options.mask) requests.push({ option: '--mask', path: options.mask });
  if (options.out) requests.push({ option: '--out', path: options.out });
  const planned = planOutputs(requests, inputPath, { force: options.force });
  return {
    mask: planned.find((output) => output.option === '--mask'),
    seg: planned.find((output) => output.option === '--out'),
    pacs: options.store ? pacsFromEnvironment() : undefined,
  };
}

function printHuman(report: SegmentReport): void {
  const t = report.timings_ms;
  const lines = [
    `Liver volume: ${report.volume_ml.toFixed(1)} mL (${report.voxels} voxels)`,
    `Model: ${report.model}   Backend: ${report.backend}`,
    `Input: ${report.input.path} (${report.input.kind}, ${report.input.dimensions.join('x')} voxels of ${report.input.spacing.map((s) => s.toFixed(3)).join('x')} mm)`,
    `Time (ms): start ${t.startup}, read ${t.load_input}, model ${t.load_model}, pre-process ${t.preprocess}, inference ${t.inference}, ` +
      `post-process ${t.postprocess}, write ${Math.round((t.write_mask + t.write_seg) * 10) / 10}, total ${t.total}`,
  ];
  const field = report.narrowed_field;
  if (field) {
    lines.push(`Long series (${field.series_mm} mm head to feet): segmented again on the ${field.kept_mm} mm around the liver ` +
      `(slices ${field.slices[0]}-${field.slices[1] - 1}; first pass ${t.first_pass} ms)`);
  }
  if (report.padded_field) lines.push(describePaddedField({ seriesMm: report.padded_field.series_mm, seenMm: report.padded_field.seen_mm }));
  if (report.outputs.mask) lines.push(`Mask: ${report.outputs.mask}`);
  if (report.outputs.seg) lines.push(`DICOM SEG: ${report.outputs.seg}`);
  if (report.outputs.stored) lines.push(`Stored to the PACS at ${report.outputs.stored.pacs}: SOP Instance UID ${report.outputs.stored.sop_instance_uid}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function openModel(options: SegmentOptions, progress: Progress): Promise<PreparedModel & { loadMs: number }> {
  const start = performance.now();
  const file = readModel(options.modelsDir, options.model);
  const prepared = await prepareModel(file.entry, file.bytes, options.backend, nodeSessionFactory({ threads: options.threads }));
  progress.stage(`Model ${file.entry.name} ready on ${prepared.session.backend}`);
  return { ...prepared, loadMs: performance.now() - start };
}

/** What the command keeps of its input once the CT's voxels are gone: metadata and grid. */
type InputWithoutVoxels = DistributiveOmit<LoadedInput, 'volume'> & { geometry: VolumeGeometry; ctBytes: number };
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/**
 * The input with its voxels in a holder that can be emptied. A one-shot run needs the voxels only
 * until pre-processing: the mask comes back on the grid, and the SEG is written from the source files.
 * (Loading happens in this function's own frame, so that no stale reference to the loaded object is
 * left in the caller's.)
 */
async function loadDetached(path: string, options: LoadInputOptions): Promise<{ input: InputWithoutVoxels; ct: { volume?: Volume } }> {
  const { volume, ...rest } = await loadInput(path, options);
  return { input: { ...rest, geometry: geometryOf(volume), ctBytes: volume.voxels.byteLength }, ct: { volume } };
}

/**
 * A blank CT (one value everywhere) or one without a body would still give a "liver" (11 L of it), and
 * one whose values are not Hounsfield units a wrong one: the command stops instead, before inference,
 * with nothing written. (The viewer shows the same findings as warnings of the result: see
 * core/model/guard-rails.ts.)
 */
function refuseBlankInput(preprocessed: PreprocessedVolume, inputPath: string): void {
  const { summary } = preprocessed.input;
  const notHounsfield = isNotHounsfield(summary);
  if (!isBlank(summary) && !hasNoBody(summary) && !notHounsfield) return;
  const [finding] = inputWarnings(summary, 0, preprocessed.sourceVoxels);
  const problem = `${inputPath}: ${finding.replace(/ The mask means nothing\.$| There is no image to segment: the mask means nothing\.$/, '')}`;
  if (notHounsfield) {
    throw new RtLiverError('INPUT_NOT_HU', problem, 'Convert it with its rescale slope and intercept applied (DICOM Rescale Slope/Intercept, NIfTI scl_slope/scl_inter), then segment again; nothing was segmented or written.');
  }
  throw new RtLiverError('INPUT_BLANK', problem, 'Check that this is the CT series you meant (in Hounsfield units); nothing was segmented or written.');
}

/**
 * Pre-processes the held CT and empties the holder; the caller then frees memory from its own frame.
 * A series long enough for a second pass on the slices around the liver keeps its voxels for it.
 */
function preprocessAndRelease(ct: { volume?: Volume }, model: PreparedModel, options: SegmentPipelineOptions): PreprocessedVolume {
  const preprocessed = preprocessVolume(ct.volume!, model, options);
  if (options.narrowField === false || !mayNarrowField(ct.volume!)) ct.volume = undefined;
  return preprocessed;
}

export async function segmentCommand(inputPath: string, options: SegmentOptions): Promise<SegmentReport> {
  const startup = performance.now(); // ms since the process started
  const rssAtStart = process.memoryUsage().rss;
  const progress = createProgress(!options.quiet);
  const peaks = peakRssByStage();

  // Input first: a wrong path or series is the commonest mistake and should fail before any model
  // work. (Loading the model alongside would gain nothing: onnxruntime-node creates sessions on the
  // main thread, as the DICOM decoder runs.)
  const planned = planCommandOutputs(inputPath, options);
  progress.stage(`Reading ${inputPath}`);
  let t = performance.now();
  const { input: loaded, ct } = await loadDetached(inputPath, {
    seriesInstanceUID: options.series,
    onSlice: (done, total) => progress.count('Decoding slices', done, total),
    limits: inputLimits({
      maxFrames: options.maxFrames,
      maxVoxels: options.maxVoxels,
      maxDecompressedBytes: options.maxDecompressedMb === undefined ? undefined : Math.round(options.maxDecompressedMb * 1024 ** 2),
    }),
  });
  const loadInputMs = performance.now() - t;
  peaks.after('load_input');
  progress.stage('Loading the model');
  const prepared = await openModel(options, progress);
  peaks.after('load_model');

  const stageOptions: SegmentPipelineOptions = {
    cpuClock: processCpuMs,
    disposeSessionAfterInference: true,
    narrowField: !options.singlePass,
    cropToBody: !options.wholeField,
    padField: !options.unpadded,
    onStage: (stage: Stage) => {
      if (stage === 'inference') peaks.after('preprocess');
      if (stage === 'postprocess') peaks.after('inference');
      progress.stage(stage === 'preprocess' ? 'Pre-processing' : stage === 'inference' ? `Inference on ${prepared.session.backend}` : 'Post-processing');
    },
  };
  // From here on only a second pass needs the CT's voxels: free them before inference allocates its buffers.
  const preprocessed = preprocessAndRelease(ct, prepared, stageOptions);
  releaseMemoryNow();
  refuseBlankInput(preprocessed, inputPath);
  const result = await segmentPreprocessed(preprocessed, prepared, stageOptions, ct.volume);
  ct.volume = undefined;
  peaks.after('postprocess');

  const outputs: SegmentReport['outputs'] = {};
  const warnings = [...loaded.warnings, ...result.warnings];
  // Every output is made in memory and written to a temporary file first; only when all of them are
  // written do they get their names, so a failure at any step leaves no output (and no half file).
  const writer = new OutputWriter();
  let writeMaskMs = 0;
  let writeSegMs = 0;
  let seg: Awaited<ReturnType<typeof buildSeg>>;
  try {
    t = performance.now();
    if (planned.mask) {
      progress.stage(`Writing ${options.mask}`);
      writer.stage(planned.mask, encodeMaskFile(result.mask, planned.mask.path, `rt-liver ${prepared.entry.name}`.slice(0, 79)));
    }
    writeMaskMs = performance.now() - t;
    t = performance.now();
    if (planned.seg || planned.pacs) {
      progress.stage(planned.seg ? `Writing ${options.out}` : 'Making the SEG');
      seg = await buildSeg(loaded, inputPath, result, prepared);
      if (seg && planned.seg) writer.stage(planned.seg, new Uint8Array(seg.bytes));
      if (!seg) {
        const what = [planned.seg && `${options.out} was not written`, planned.pacs && 'nothing was stored'].filter(Boolean).join(' and ');
        warnings.push(`No liver found: ${what} (a SEG needs at least one segmented frame).`);
      }
    }
    writer.commit();
    writeSegMs = performance.now() - t;
  } catch (error) {
    writer.abort();
    throw error;
  }
  if (planned.mask) outputs.mask = options.mask;
  if (planned.seg && seg) outputs.seg = options.out;
  let storeMs = 0;
  if (planned.pacs && seg) {
    // After the files: a PACS that is down or refuses costs nothing already written.
    progress.stage(`Storing the SEG to ${planned.pacs.url}`);
    t = performance.now();
    const stored = await storeSeg(seg.bytes, seg.studyInstanceUID, planned.pacs, outputs.seg);
    storeMs = performance.now() - t;
    outputs.stored = {
      pacs: planned.pacs.url,
      study_instance_uid: seg.studyInstanceUID,
      sop_instance_uid: seg.sopInstanceUID,
      retrieve_urls: stored.retrieveUrls,
      warnings: stored.warnings,
    };
  }
  peaks.after('write');
  progress.done();

  const timings: Record<string, number> = {
    startup,
    load_input: loadInputMs,
    read_files: loaded.timingsMs.readFilesMs,
    build_volume: loaded.timingsMs.buildVolumeMs,
    load_model: prepared.loadMs,
    verify_sha256: prepared.timings_ms.verify_sha256,
    create_session: prepared.timings_ms.create_session,
    ...result.timings_ms,
    segment: result.timings_ms.total,
    write_mask: writeMaskMs,
    write_seg: writeSegMs,
    store: storeMs,
    total: performance.now(),
  };
  const report: SegmentReport = {
    volume_ml: Math.round(result.volumeMl * 1000) / 1000,
    backend: result.backend,
    model: result.model,
    timings_ms: Object.fromEntries(Object.entries(timings).map(([key, value]) => [key, round(value)])),
    voxels: result.voxels,
    memory_mb: {
      rss_at_start: tenthsOf(rssAtStart / BYTES_PER_MB),
      peak_rss: tenthsOf(process.resourceUsage().maxRSS / KIB_PER_MB),
      ct_voxels: tenthsOf(loaded.ctBytes / BYTES_PER_MB),
      peak_stage: peaks.stageOfPeak(),
    },
    cpu_ms: (() => {
      const usage = process.cpuUsage();
      const stages = result.cpu_ms ?? { preprocess: 0, inference: 0, postprocess: 0 };
      return {
        user: Math.round(usage.user / MICROSECONDS_PER_MS),
        system: Math.round(usage.system / MICROSECONDS_PER_MS),
        preprocess: round(stages.preprocess),
        inference: round(stages.inference),
        postprocess: round(stages.postprocess),
      };
    })(),
    load_average: Math.round(loadavg()[0] * 100) / 100,
    input: {
      path: inputPath,
      kind: loaded.kind,
      dimensions: loaded.geometry.dimensions,
      spacing: loaded.geometry.spacing,
      series_instance_uid: loaded.kind === 'dicom' ? loaded.series.seriesInstanceUID : undefined,
    },
    narrowed_field: result.narrowedField && {
      axis: result.narrowedField.axis,
      slices: [result.narrowedField.start, result.narrowedField.stop],
      series_mm: round(result.narrowedField.seriesMm),
      kept_mm: round(result.narrowedField.keptMm),
    },
    body_box: result.bodyBox && { start: result.bodyBox.start, stop: result.bodyBox.stop },
    padded_field: result.paddedField && { series_mm: round(result.paddedField.seriesMm), seen_mm: round(result.paddedField.seenMm) },
    outputs,
    warnings,
  };
  for (const warning of warnings) progress.warn(warning);
  if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else printHuman(report);
  return report;
}
