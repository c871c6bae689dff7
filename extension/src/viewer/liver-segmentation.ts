/**
 * One-click liver segmentation of the CT on screen, as a small state machine the panel renders and
 * the `segmentLiver` command drives:
 *
 *   ready --segment()--> running (copy, model, preprocess, inference, postprocess, display) --> done
 *      ^                    | cancel(), leaving the mode, another study: worker terminated
 *      +--------------------+                                      error (shown, retry allowed)
 *
 * The CT comes from Cornerstone3D's cache (no second download), the core pipeline runs in a Web
 * Worker (onnxruntime-web, WebGPU or WASM), and the mask becomes the labelmap "Liver" through OHIF's
 * segmentationService. After an edit (brush, eraser) the volume is measured again and the SEG says
 * SEMIAUTOMATIC. One controller per viewer (servicesManager), shared by the panel and the command.
 */
import { RtLiverError, errorText } from '../core/errors';
import type { BackendChoice } from '../core/model/inference';
import type { ModelEntry } from '../core/model/manifest';
import type { SegmentationResult, Stage } from '../core/model/pipeline';
import type { SegmentationWorkerClient } from '../core/model/worker-client';
import { LIVER_CIELAB } from '../core/seg/codes';
import { newUid } from '../core/seg/uid';
import { geometryOf, type Volume, type VolumeGeometry } from '../core/volume';
import { type HostCornerstone, hostCornerstone } from '../host';
import { ORT_PATH } from '../plugins';
import { type BackendInfo, browserCapabilities, detectBackend, wasmThreads } from '../panels/backend';
import { type ModelCatalog, loadModelCatalog } from '../panels/modelInfo';
import { dicomLabToRgb } from './colour';
import { checkVolumeSize, copyHostVolume } from './ct-volume';
import { type PreparedLabelmap, measureLabelmap, prepareLiverLabelmap, readLabelmap, showLiverLabelmap, waitForRender } from './labelmap';
import { type CtVolumeStatus, type OnScreenCt, findOnScreenCt } from './on-screen-ct';
import { type SegDocument, type StoreTarget, downloadSeg, storeSeg, storeTargetOf, writeSegDocument } from './seg-export';
import { startSegmentationWorker } from './segmentation-worker-url';

// OHIF services are untyped JavaScript.
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Stages as the panel names them: the worker's three plus the viewer's own. */
export type RunStage = 'copy' | 'model' | Stage | 'display';

export const STAGE_LABELS: Record<RunStage, string> = {
  copy: 'Reading the CT from the viewer',
  model: 'Loading the model',
  preprocess: 'Pre-processing',
  inference: 'Inference',
  postprocess: 'Post-processing',
  display: 'Showing the labelmap',
};

export interface ShownResult {
  segmentationId: string;
  model: ModelEntry;
  backend: string;
  /** Liver volume of the labelmap as it is now (edits included). */
  volumeMl: number;
  voxels: number;
  /** The model's own volume, before any edit. */
  modelVolumeMl: number;
  edited: boolean;
  warnings: string[];
  /** Milliseconds per stage: the viewer's (copy, model, display) and the pipeline's. */
  stageMs: Partial<Record<RunStage, number>>;
  pipeline: SegmentationResult['timings_ms'];
  /** Set when a long series was segmented again on the slices around the liver (core/model/field-of-view.ts). */
  narrowedField?: SegmentationResult['narrowedField'];
  /** Set when a short series was given to the model with its end slices repeated (core/model/field-of-view.ts). */
  paddedField?: SegmentationResult['paddedField'];
  clickToOverlayMs: number;
  /** performance.now() at the click and when the labelmap was on screen: the run's window, for measuring the page's long tasks. */
  runWindow: [number, number];
  studyInstanceUid: string;
}

export type RunState =
  | { phase: 'idle' }
  | { phase: 'running'; stage: RunStage; stageMs: Partial<Record<RunStage, number>>; model: string; backend?: string }
  | { phase: 'done' }
  | { phase: 'error'; code: string; message: string; hint?: string };

export type StoreState =
  | { state: 'idle' }
  | { state: 'busy'; what: 'download' | 'store' }
  | { state: 'stored'; sopInstanceUID: string; where: string }
  | { state: 'failed'; message: string };

export interface ControllerState {
  catalog?: ModelCatalog;
  selectedModel?: string;
  backend?: BackendInfo;
  /** What the user asked for; 'auto' = WebGPU with a hardware adapter, else WASM. */
  backendChoice: 'auto' | 'webgpu' | 'wasm';
  ct: CtVolumeStatus;
  run: RunState;
  result?: ShownResult;
  store: StoreState;
  storeTarget: StoreTarget;
}

interface ViewerServices {
  servicesManager: Loose;
  extensionManager: Loose;
}

/** The CT of the current run or result, as needed to read the labelmap back and write the SEG. */
interface CtSnapshot {
  geometry: VolumeGeometry;
  imageIds: string[];
  displaySet: Loose;
  /** The model's mask, to tell an edited labelmap from the original. */
  mask: Volume<Uint8Array>;
  seriesInstanceUID: string;
  /** SEG per labelmap version: download and store send the same bytes (same SOP Instance UID). */
  seg?: { version: number; document: SegDocument };
  version: number;
}

const MODELS_PATH = '/models/';

export class LiverSegmentationController {
  private state: ControllerState = {
    backendChoice: 'auto',
    ct: { state: 'none', reason: 'Reading the study…' },
    run: { phase: 'idle' },
    store: { state: 'idle' },
    storeTarget: { ok: false, reason: 'Reading the data source…' },
  };
  private readonly listeners = new Set<(state: ControllerState) => void>();
  private worker?: { client: SegmentationWorkerClient; model: string; backend: BackendChoice; loaded: Promise<unknown> };
  /** Increases with every run and every cancel: a stale run sees that it is no longer current. */
  private runToken = 0;
  private snapshot?: CtSnapshot;
  private editTimer?: ReturnType<typeof setTimeout>;
  private subscriptions: { unsubscribe: () => void }[] = [];
  private poll?: ReturnType<typeof setInterval>;
  private preferredSeriesUid?: string;
  private studyUid?: string;

  constructor(private readonly services: ViewerServices) {}

  // ---- state --------------------------------------------------------------------------------

  getState(): ControllerState {
    return this.state;
  }

  subscribe(listener: (state: ControllerState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<ControllerState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener(this.state);
  }

  private cs(): HostCornerstone {
    return hostCornerstone();
  }

  /** Starts watching the viewer: models, backend, the CT volume's loading, edits of our labelmap. */
  start(): void {
    if (this.poll) return;
    void loadModelCatalog(fetch, MODELS_PATH).then((catalog) => this.set({ catalog, selectedModel: this.state.selectedModel ?? catalog.defaultName }));
    void detectBackend(browserCapabilities()).then((backend) => this.set({ backend }));
    this.refreshViewer();
    // Loading progress and the data source are cheap to read; polling avoids depending on which
    // of the host's events fires first.
    this.poll = setInterval(() => this.refreshViewer(), 500);
    const { segmentationService } = this.services.servicesManager.services;
    const dataModified = segmentationService?.EVENTS?.SEGMENTATION_DATA_MODIFIED;
    if (dataModified) {
      this.subscriptions.push(segmentationService.subscribe(dataModified, ({ segmentationId }: { segmentationId: string }) => this.onLabelmapModified(segmentationId)));
    }
    const removed = segmentationService?.EVENTS?.SEGMENTATION_REMOVED;
    if (removed) {
      this.subscriptions.push(
        segmentationService.subscribe(removed, ({ segmentationId }: { segmentationId: string }) => {
          if (segmentationId === this.state.result?.segmentationId) this.forgetResult();
        }),
      );
    }
  }

  /** Leaving the mode: cancel a run, forget the result (OHIF removes the segmentations itself). */
  stop(): void {
    this.cancel('The segmentation was cancelled: the viewer left the Real-time Liver mode.');
    clearInterval(this.poll);
    this.poll = undefined;
    this.subscriptions.forEach((s) => s.unsubscribe());
    this.subscriptions = [];
    this.forgetResult();
    this.disposeWorker();
  }

  /** The series the panel considers the CT (the one with most images); the volume of that series is used. */
  setPreferredSeries(seriesUid: string | undefined): void {
    this.preferredSeriesUid = seriesUid;
  }

  /** The study on screen; another study during a run cancels it, and the old result goes away. */
  setStudy(studyUid: string | undefined): void {
    if (studyUid === this.studyUid) return;
    const previous = this.studyUid;
    this.studyUid = studyUid;
    if (previous !== undefined) {
      this.cancel('The segmentation was cancelled: another study was opened.');
      this.forgetResult();
    }
  }

  private refreshViewer(): void {
    let ct: CtVolumeStatus;
    try {
      ct = findOnScreenCt(this.cs(), this.services.servicesManager.services.displaySetService, this.preferredSeriesUid);
    } catch (error) {
      ct = { state: 'none', reason: errorText(error) };
    }
    const config = this.services.extensionManager.getActiveDataSource?.()?.[0]?.getConfig?.();
    const storeTarget = storeTargetOf(config);
    const same =
      ct.state === this.state.ct.state &&
      ('reason' in ct ? ct.reason : '') === ('reason' in this.state.ct ? this.state.ct.reason : '') &&
      JSON.stringify(storeTarget) === JSON.stringify(this.state.storeTarget);
    if (!same) this.set({ ct, storeTarget });
    else this.state = { ...this.state, ct };
  }

  selectModel(name: string): void {
    if (this.state.run.phase === 'running') return;
    this.set({ selectedModel: name });
  }

  selectBackend(choice: ControllerState['backendChoice']): void {
    if (this.state.run.phase === 'running') return;
    this.set({ backendChoice: choice });
  }

  /** Why the button is disabled, or undefined when a run can start. */
  blocker(): string | undefined {
    const { catalog, ct, run } = this.state;
    if (run.phase === 'running') return 'A segmentation is running.';
    if (!catalog) return 'Reading the model manifest…';
    if (catalog.state !== 'ready') return catalog.text ?? 'No model is available.';
    if (ct.state !== 'loaded') return ct.reason;
    try {
      checkVolumeSize(ct.ct.volume.dimensions);
    } catch (error) {
      return errorText(error);
    }
    return undefined;
  }

  private model(): ModelEntry {
    const manifest = this.state.catalog?.manifest;
    const model = manifest?.models.find((m) => m.name === this.state.selectedModel) ?? manifest?.models.find((m) => m.name === this.state.catalog?.defaultName);
    if (!model) throw new RtLiverError('MODEL_NOT_FOUND', 'No model is selected.', 'Check models/manifest.json on the server.');
    return model;
  }

  private backendChoice(): BackendChoice {
    if (this.state.backendChoice !== 'auto') return this.state.backendChoice;
    return this.state.backend?.backend === 'webgpu' ? 'webgpu' : 'wasm';
  }

  // ---- the run ------------------------------------------------------------------------------

  /** The worker with `model` loaded on `backend`: reused when it already is, else a new one. */
  private ensureWorker(model: ModelEntry, backend: BackendChoice): { client: SegmentationWorkerClient; loaded: Promise<unknown> } {
    const current = this.worker;
    if (current && !current.client.stopped && current.model === model.name && current.backend === backend) return current;
    this.disposeWorker();
    const client = startSegmentationWorker();
    const origin = globalThis.location.origin;
    const threads = wasmThreads(globalThis.navigator?.hardwareConcurrency, Boolean(globalThis.crossOriginIsolated));
    // numThreads must reach onnxruntime-web before its first session: the load request carries it.
    const loaded = client.load(model, `${origin}${MODELS_PATH}${model.file}`, backend, { wasmPaths: `${origin}${ORT_PATH}/`, numThreads: threads });
    loaded.catch(() => undefined);
    this.worker = { client, model: model.name, backend, loaded };
    return this.worker;
  }

  private disposeWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    if (worker && !worker.client.stopped) worker.client.terminate('The segmentation worker was replaced.');
  }

  /** Loads the model into a worker ahead of the click, so the click waits for inference only. */
  prepare(): void {
    if (this.state.catalog?.state !== 'ready' || this.state.run.phase === 'running' || !this.state.backend) return;
    try {
      this.ensureWorker(this.model(), this.backendChoice());
    } catch {
      // Shown when the user clicks.
    }
  }

  async segment(): Promise<void> {
    const blocked = this.blocker();
    if (blocked) {
      this.services.servicesManager.services.uiNotificationService?.show({ title: 'Segment liver', message: blocked, type: 'warning' });
      return;
    }
    const clickedAt = performance.now();
    const token = ++this.runToken;
    const cancelled = () => token !== this.runToken;
    const ct = (this.state.ct as Extract<CtVolumeStatus, { state: 'loaded' }>).ct;
    const model = this.model();
    const stageMs: Partial<Record<RunStage, number>> = {};
    let stage: RunStage = 'copy';
    let stageStart = performance.now();
    const enter = (next: RunStage) => {
      if (cancelled()) return;
      stageMs[stage] = performance.now() - stageStart;
      stage = next;
      stageStart = performance.now();
      // Marks in the page's performance timeline: what a profile or a long-task report is lined up with.
      performance.mark(`rt-liver:${next}`);
      this.set({ run: { phase: 'running', stage, stageMs: { ...stageMs }, model: model.name } });
    };
    performance.mark('rt-liver:copy');
    this.set({ run: { phase: 'running', stage, stageMs: {}, model: model.name }, store: { state: 'idle' } });
    let labelmap: PreparedLabelmap | undefined;
    try {
      const backend = this.backendChoice();
      const worker = this.ensureWorker(model, backend);
      const volume = await copyHostVolume(this.cs(), ct.volume, { cancelled });
      if (cancelled()) return;
      enter('model');
      await worker.loaded;
      if (cancelled()) return;
      const geometry = geometryOf(volume);
      // The CT's buffer is handed over, not copied: the worker owns it from here.
      const result = await worker.client.segment(volume, { transfer: true, onStage: (s) => enter(s) });
      if (cancelled()) return;
      enter('display');
      // Not while the worker runs: made then, on this 2-core machine, inference's median went from
      // 1.7 to 3.0 s (n = 5; the CLI's unchanged), more than making them here costs.
      labelmap = await prepareLiverLabelmap({ cs: this.cs(), displaySet: ct.displaySet, imageIds: ct.volume.imageIds }, cancelled);
      if (cancelled()) return;
      this.forgetResult();
      const segmentationId = await showLiverLabelmap(
        {
          cs: this.cs(),
          segmentationService: this.services.servicesManager.services.segmentationService,
          displaySet: ct.displaySet,
          imageIds: ct.volume.imageIds,
          geometry,
          viewportIds: ct.viewports.map((v) => v.id),
          color: dicomLabToRgb(LIVER_CIELAB),
        },
        labelmap!,
        result.mask,
        cancelled,
      );
      labelmap = undefined; // the segmentation owns its images now
      if (cancelled()) {
        this.services.servicesManager.services.segmentationService.remove(segmentationId);
        return;
      }
      await waitForRender(this.cs(), ct.viewports.map((v) => v.element));
      stageMs.display = performance.now() - stageStart;
      performance.mark('rt-liver:on-screen');
      const clickToOverlayMs = performance.now() - clickedAt;
      this.snapshot = { geometry, imageIds: [...ct.volume.imageIds], displaySet: ct.displaySet, mask: result.mask, seriesInstanceUID: newUid(), version: 0 };
      this.set({
        run: { phase: 'done' },
        result: {
          segmentationId,
          model,
          backend: result.backend,
          volumeMl: result.volumeMl,
          voxels: result.voxels,
          modelVolumeMl: result.volumeMl,
          edited: false,
          warnings: result.warnings,
          stageMs,
          pipeline: result.timings_ms,
          narrowedField: result.narrowedField,
          paddedField: result.paddedField,
          clickToOverlayMs,
          runWindow: [clickedAt, clickedAt + clickToOverlayMs],
          studyInstanceUid: String(ct.displaySet.StudyInstanceUID ?? ''),
        },
      });
      console.info(`rt-liver: liver ${result.volumeMl.toFixed(1)} mL by ${model.name} on ${result.backend}, click to overlay ${clickToOverlayMs.toFixed(0)} ms`);
    } catch (error) {
      if (cancelled() || (error as RtLiverError)?.code === 'CANCELLED') return;
      const e = error as Partial<RtLiverError> & Error;
      const code = typeof e.code === 'string' ? e.code : 'SEGMENTATION_FAILED';
      const message = e.message;
      console.error('rt-liver: segmentation failed', error);
      // A failed worker (or one whose model did not load) is not reused: the next click starts afresh.
      this.disposeWorker();
      this.set({ run: { phase: 'error', code, message, hint: e.hint } });
    } finally {
      // Labelmap images not handed to a segmentation (the run was cancelled or failed) go from the cache.
      labelmap?.discard();
    }
  }

  /** Stops a run now: the worker is terminated (its memory freed) and the state goes back to ready. */
  cancel(reason = 'The segmentation was cancelled.'): void {
    if (this.state.run.phase !== 'running') return;
    this.runToken++;
    this.worker?.client.terminate(reason);
    this.worker = undefined;
    this.set({ run: { phase: 'idle' } });
  }

  private forgetResult(): void {
    clearTimeout(this.editTimer);
    this.snapshot = undefined;
    if (this.state.result) this.set({ result: undefined, store: { state: 'idle' }, run: this.state.run.phase === 'done' ? { phase: 'idle' } : this.state.run });
  }

  // ---- edits --------------------------------------------------------------------------------

  private onLabelmapModified(segmentationId: string): void {
    if (segmentationId !== this.state.result?.segmentationId) return;
    clearTimeout(this.editTimer);
    // Brush strokes fire many events; measure once the stroke has settled.
    this.editTimer = setTimeout(() => void this.remeasure(), 250);
  }

  private async remeasure(): Promise<void> {
    const result = this.state.result;
    const snapshot = this.snapshot;
    if (!result || !snapshot) return;
    const now = await readLabelmap(this.cs(), result.segmentationId, snapshot.imageIds, snapshot.geometry);
    if (this.state.result?.segmentationId !== result.segmentationId) return;
    let differs = false;
    for (let n = 0; n < now.voxels.length && !differs; n++) differs = now.voxels[n] !== snapshot.mask.voxels[n];
    const measured = await measureLabelmap(this.cs(), result.segmentationId, snapshot.imageIds, snapshot.geometry);
    if (this.state.result?.segmentationId !== result.segmentationId) return;
    if (measured.voxels === result.voxels && differs === result.edited) return;
    snapshot.version++;
    this.set({ result: { ...result, voxels: measured.voxels, volumeMl: measured.volumeMl, edited: result.edited || differs }, store: { state: 'idle' } });
  }

  // ---- SEG ----------------------------------------------------------------------------------

  /** The SEG of the labelmap as it is now; the same document (bytes, UIDs) until the next edit. */
  private async currentSeg(): Promise<SegDocument> {
    const result = this.state.result;
    const snapshot = this.snapshot;
    if (!result || !snapshot) throw new RtLiverError('NO_RESULT', 'There is no segmentation to export.', 'Click "Segment liver" first.');
    if (snapshot.seg?.version === snapshot.version) return snapshot.seg.document;
    const version = snapshot.version;
    const mask = await readLabelmap(this.cs(), result.segmentationId, snapshot.imageIds, snapshot.geometry);
    const document = await writeSegDocument({
      instances: snapshot.displaySet.instances ?? [],
      mask,
      model: result.model,
      edited: result.edited,
      uids: { seriesInstanceUID: snapshot.seriesInstanceUID, sopInstanceUID: newUid() },
    });
    snapshot.seg = { version, document };
    return document;
  }

  async downloadSeg(): Promise<SegDocument | undefined> {
    this.set({ store: { state: 'busy', what: 'download' } });
    try {
      const seg = await this.currentSeg();
      downloadSeg(seg);
      this.set({ store: { state: 'idle' } });
      return seg;
    } catch (error) {
      this.set({ store: { state: 'failed', message: errorText(error) } });
      return undefined;
    }
  }

  async storeSeg(): Promise<void> {
    const target = this.state.storeTarget;
    const notify = this.services.servicesManager.services.uiNotificationService;
    if (!target.ok) {
      notify?.show({ title: 'Store to PACS', message: target.reason, type: 'warning' });
      return;
    }
    this.set({ store: { state: 'busy', what: 'store' } });
    try {
      const seg = await this.currentSeg();
      await storeSeg(seg, target);
      this.set({ store: { state: 'stored', sopInstanceUID: seg.sopInstanceUID, where: target.name } });
      notify?.show({ title: 'Stored to PACS', message: `The liver SEG (${seg.frameCount} frames, ${seg.algorithmType}) is stored in ${target.name}.`, type: 'success' });
    } catch (error) {
      const message = errorText(error);
      this.set({ store: { state: 'failed', message } });
      notify?.show({ title: 'Storing the SEG failed', message, type: 'error', duration: 20_000 });
    }
  }
}

const controllers = new WeakMap<object, LiverSegmentationController>();

/** The viewer's controller (one per servicesManager), started on first use. */
export function liverSegmentation(services: ViewerServices): LiverSegmentationController {
  let controller = controllers.get(services.servicesManager);
  if (!controller) {
    controller = new LiverSegmentationController(services);
    controllers.set(services.servicesManager, controller);
  }
  controller.start();
  return controller;
}

/** Leaving the mode: the controller stops and a new one starts with the next mode. */
export function stopLiverSegmentation(servicesManager: object): void {
  controllers.get(servicesManager)?.stop();
  controllers.delete(servicesManager);
}
