/**
 * The Real-time Liver side panel, as plain DOM: mounted into an element that a minimal host React
 * component provides (getPanelModule.ts), so rt-liver needs no React of its own. Shows the study
 * and series, the model (the manifest's default, others selectable), the inference backend, the
 * "Segment liver" button (disabled with the reason while it cannot run), the run's progress by stage
 * with a Cancel, and the result: volume in mL, warnings, timings, Download SEG and Store to PACS.
 * The segmentation itself lives in viewer/liver-segmentation.ts; this file only draws its state.
 */
import { describePaddedField } from '../core/model/field-of-view';
import { RUN_STAGES } from '../viewer/stages';
import { type ControllerState, type LiverSegmentationController, STAGE_LABELS, liverSegmentation } from '../viewer/liver-segmentation';
import { summariseFromCatalog } from './modelInfo';
import { Readiness, assessReadiness } from './readiness';
import {
  OhifContext,
  StudySummary,
  currentStudyUid,
  mergeSeries,
  seriesFromDataSource,
  seriesFromDisplaySets,
  studyFromDataSource,
  studyFromDisplaySets,
} from './studyInfo';

interface PanelData {
  study?: StudySummary;
  readiness?: Readiness;
  controller?: ControllerState;
}

type Child = Node | string | undefined | false;

function h(tag: string, attributes: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) if (child) element.append(child);
  return element;
}

const STYLE = {
  panel: 'padding:12px;overflow-wrap:anywhere;color:#d7e3f1;font-size:13px;line-height:1.45;display:flex;flex-direction:column;gap:10px',
  title: 'font-size:15px;font-weight:600;color:#5acce6',
  label: 'color:#7b8ba3;font-size:11px;text-transform:uppercase;letter-spacing:.05em',
  ready: 'padding:8px;border-radius:4px;background:#0c3b2a;color:#9ff0c2',
  unavailable: 'padding:8px;border-radius:4px;background:#3b2a0c;color:#ffd38a',
  error: 'padding:8px;border-radius:4px;background:#3b0c14;color:#ffb3bf',
  loading: 'padding:8px;border-radius:4px;background:#1d2a3e;color:#b8c7dc',
  button: 'padding:6px 10px;border-radius:4px;border:1px solid #3a86c8;background:#0f4c81;color:#fff;font-size:13px;cursor:pointer',
  secondary: 'padding:5px 9px;border-radius:4px;border:1px solid #56657a;background:#1b2638;color:#d7e3f1;font-size:12px;cursor:pointer',
  select: 'width:100%;padding:4px;border-radius:4px;background:#101826;color:#d7e3f1;border:1px solid #2c3a52',
  small: 'color:#9fb0c8;font-size:12px',
};

function field(label: string, testId: string, value: string): HTMLElement {
  return h('div', {}, h('div', { style: STYLE.label }, label), h('div', { 'data-testid': testId }, value));
}

function button(testId: string, text: string, onClick: () => void, options: { disabled?: string | false; primary?: boolean } = {}): HTMLElement {
  const element = h('button', { type: 'button', 'data-testid': testId, style: options.primary ? STYLE.button : STYLE.secondary }, text);
  if (options.disabled) {
    element.setAttribute('disabled', '');
    element.setAttribute('aria-disabled', 'true');
    element.setAttribute('title', options.disabled);
    element.style.opacity = '0.5';
    element.style.cursor = 'not-allowed';
  } else element.addEventListener('click', onClick);
  return element;
}

function select(testId: string, options: { value: string; text: string }[], selected: string | undefined, onChange: (value: string) => void, disabled: boolean): HTMLElement {
  const element = h('select', { 'data-testid': testId, style: STYLE.select }) as HTMLSelectElement;
  for (const option of options) {
    const item = h('option', { value: option.value }, option.text) as HTMLOptionElement;
    if (option.value === selected) item.setAttribute('selected', '');
    element.append(item);
  }
  element.disabled = disabled;
  element.addEventListener('change', () => onChange(element.value));
  return element;
}

const ms = (value: number | undefined) => (value === undefined ? '–' : `${Math.round(value)} ms`);

function modelSection(state: ControllerState | undefined, controller: LiverSegmentationController): HTMLElement[] {
  const catalog = state?.catalog;
  if (!catalog) return [field('Model', 'rt-liver-model', 'loading…')];
  const summary = summariseFromCatalog(catalog, state?.selectedModel);
  const running = state?.run.phase === 'running';
  const models = catalog.manifest?.models ?? [];
  const parts: HTMLElement[] = [field('Model', 'rt-liver-model', summary.text)];
  if (models.length > 1) {
    parts.push(
      select(
        'rt-liver-model-choice',
        models.map((m) => ({ value: m.name, text: m.name === catalog.defaultName ? `${m.name} (default)` : m.name })),
        state?.selectedModel,
        (name) => controller.selectModel(name),
        running,
      ),
    );
  }
  if (summary.caution) parts.push(h('div', { style: STYLE.unavailable, 'data-testid': 'rt-liver-model-caution' }, summary.caution));
  return parts;
}

function backendSection(state: ControllerState | undefined, controller: LiverSegmentationController): HTMLElement[] {
  return [
    field('Backend', 'rt-liver-backend', state?.backend?.text ?? 'detecting…'),
    select(
      'rt-liver-backend-choice',
      [
        { value: 'auto', text: 'Automatic (WebGPU with a GPU, else WASM)' },
        { value: 'wasm', text: 'WASM (CPU)' },
        { value: 'webgpu', text: 'WebGPU' },
      ],
      state?.backendChoice,
      (value) => controller.selectBackend(value as ControllerState['backendChoice']),
      state?.run.phase === 'running',
    ),
  ];
}

function runSection(data: PanelData, controller: LiverSegmentationController): HTMLElement[] {
  const state = data.controller;
  const readiness = data.readiness;
  const run = state?.run;
  const reason = !readiness ? 'Reading the study…' : !readiness.ready ? readiness.reason : controller.blocker();
  const parts: HTMLElement[] = [];
  parts.push(button('rt-liver-segment', 'Segment liver', () => void controller.segment(), { disabled: reason ?? false, primary: true }));
  if (reason && run?.phase !== 'running') parts.push(h('div', { style: STYLE.small, 'data-testid': 'rt-liver-segment-reason' }, reason));
  if (run?.phase === 'running') {
    const rows = RUN_STAGES.map((stage) => {
      const done = run.stageMs[stage];
      const current = run.stage === stage;
      const mark = current ? '▶' : done !== undefined ? '✓' : '·';
      return h('div', { 'data-stage': stage, 'data-current': String(current) }, `${mark} ${STAGE_LABELS[stage]}${done !== undefined ? ` (${ms(done)})` : current ? '…' : ''}`);
    });
    parts.push(
      h('div', { style: STYLE.loading, 'data-testid': 'rt-liver-progress', 'data-stage': run.stage }, h('div', {}, `Segmenting with ${run.model}…`), ...rows),
      button('rt-liver-cancel', 'Cancel', () => controller.cancel()),
    );
  }
  if (run?.phase === 'error') {
    parts.push(h('div', { style: STYLE.error, 'data-testid': 'rt-liver-error', 'data-code': run.code }, `Segmentation failed: ${run.message}`, run.hint ? h('div', { style: STYLE.small }, run.hint) : undefined));
  }
  return parts;
}

function resultSection(state: ControllerState | undefined, controller: LiverSegmentationController): HTMLElement[] {
  const result = state?.result;
  if (!result) return [];
  const stages = [
    ['read CT', result.stageMs.copy],
    ['model', result.stageMs.model],
    ...(result.pipeline.first_pass === undefined ? [] : [['first pass', result.pipeline.first_pass] as const]),
    ['pre-process', result.pipeline.preprocess],
    ['inference', result.pipeline.inference],
    ['post-process', result.pipeline.postprocess],
    ['labelmap', result.stageMs.display],
  ] as const;
  const store = state!.store;
  const busy = store.state === 'busy';
  const storeDisabled = !state!.storeTarget.ok ? state!.storeTarget.reason : busy ? 'Busy…' : false;
  const element = h(
    'div',
    {
      style: STYLE.ready,
      'data-testid': 'rt-liver-result',
      'data-volume-ml': result.volumeMl.toFixed(3),
      'data-voxels': String(result.voxels),
      'data-model': result.model.name,
      'data-backend': result.backend,
      'data-click-to-overlay-ms': String(Math.round(result.clickToOverlayMs)),
      'data-run-window': result.runWindow.map((t) => t.toFixed(1)).join(' '),
      'data-stage-ms': JSON.stringify({
        copy: result.stageMs.copy,
        model: result.stageMs.model,
        preprocess: result.pipeline.preprocess,
        inference: result.pipeline.inference,
        postprocess: result.pipeline.postprocess,
        worker: result.stageMs.preprocess === undefined ? undefined : (result.stageMs.preprocess ?? 0) + (result.stageMs.inference ?? 0) + (result.stageMs.postprocess ?? 0),
        display: result.stageMs.display,
      }),
      'data-edited': String(result.edited),
      'data-segmentation-id': result.segmentationId,
    },
    h('div', { style: 'font-size:15px;font-weight:600', 'data-testid': 'rt-liver-volume' }, `Liver: ${result.volumeMl.toFixed(1)} mL`),
    h('div', { style: STYLE.small }, result.edited ? `Edited (the model's mask was ${result.modelVolumeMl.toFixed(1)} mL)` : `By ${result.model.name} on ${result.backend}`),
    h('div', { style: STYLE.small, 'data-testid': 'rt-liver-timings' }, `Click to overlay ${ms(result.clickToOverlayMs)}: ${stages.map(([name, value]) => `${name} ${ms(value)}`).join(', ')}`),
    result.narrowedField
      ? h('div', { style: STYLE.small, 'data-testid': 'rt-liver-narrowed-field' },
        `Long series (${Math.round(result.narrowedField.seriesMm)} mm head to feet): segmented again on the ${Math.round(result.narrowedField.keptMm)} mm around the liver.`)
      : undefined,
    result.paddedField
      ? h('div', { style: STYLE.small, 'data-testid': 'rt-liver-padded-field' }, describePaddedField(result.paddedField))
      : undefined,
  );
  const parts: HTMLElement[] = [element];
  if (result.warnings.length) {
    parts.push(h('div', { style: STYLE.unavailable, 'data-testid': 'rt-liver-warnings' }, ...result.warnings.map((w) => h('div', {}, w))));
  }
  parts.push(
    h(
      'div',
      { style: 'display:flex;gap:8px;flex-wrap:wrap' },
      button('rt-liver-download-seg', 'Download SEG', () => void controller.downloadSeg(), { disabled: busy ? 'Busy…' : false }),
      button('rt-liver-store-seg', 'Store to PACS', () => void controller.storeSeg(), { disabled: storeDisabled }),
    ),
  );
  if (!state!.storeTarget.ok) parts.push(h('div', { style: STYLE.small, 'data-testid': 'rt-liver-store-reason' }, state!.storeTarget.reason));
  if (busy) parts.push(h('div', { style: STYLE.loading, 'data-testid': 'rt-liver-store-state', 'data-state': 'busy' }, store.what === 'store' ? 'Storing to the PACS…' : 'Writing the SEG…'));
  if (store.state === 'stored') parts.push(h('div', { style: STYLE.ready, 'data-testid': 'rt-liver-store-state', 'data-state': 'stored', 'data-sop-instance-uid': store.sopInstanceUID }, `Stored in ${store.where}.`));
  if (store.state === 'failed') parts.push(h('div', { style: STYLE.error, 'data-testid': 'rt-liver-store-state', 'data-state': 'failed' }, `${store.message} The SEG can still be downloaded, or stored again.`));
  return parts;
}

function render(root: HTMLElement, data: PanelData, controller: LiverSegmentationController): void {
  const { study, readiness } = data;
  const studyText = study
    ? [formatPersonName(study.patientName), study.description, formatDate(study.date)].filter(Boolean).join(' · ') || study.studyInstanceUid || 'unknown study'
    : 'loading…';
  const series = readiness?.series;
  const seriesText = series
    ? `${series.modality} · ${series.description ?? 'no description'} · ${series.numberOfImages} image${series.numberOfImages === 1 ? '' : 's'}`
    : readiness ? 'no CT series' : 'loading…';
  let state: HTMLElement;
  if (!readiness) state = h('div', { style: STYLE.loading, 'data-testid': 'rt-liver-state', 'data-state': 'loading' }, 'Reading the study…');
  else if (readiness.ready) state = h('div', { style: STYLE.ready, 'data-testid': 'rt-liver-state', 'data-state': 'ready' }, readiness.message);
  else state = h('div', { style: STYLE.unavailable, 'data-testid': 'rt-liver-state', 'data-state': 'unavailable' }, readiness.reason);

  const sections: HTMLElement[][] = [
    [h('div', { style: STYLE.title }, 'Real-time Liver'), field('Study', 'rt-liver-study', studyText), field('Series', 'rt-liver-series', seriesText)],
    modelSection(data.controller, controller),
    backendSection(data.controller, controller),
    [state, ...runSection(data, controller)],
    resultSection(data.controller, controller),
  ];
  let content = root.firstElementChild as HTMLElement | null;
  if (!content || content.getAttribute('data-testid') !== 'rt-liver-panel-content') {
    content = h('div', { style: STYLE.panel, 'data-testid': 'rt-liver-panel-content' });
    root.replaceChildren(content);
  }
  // Only the sections whose markup changed are replaced: during a run the progress changes a few
  // times a second, and re-creating the whole panel would make the page lay it all out again.
  sections.forEach((children, index) => {
    let section = content!.children[index] as HTMLElement | undefined;
    if (!section) {
      section = h('div', { style: 'display:flex;flex-direction:column;gap:10px' });
      content!.append(section);
    }
    const markup = children.map((child) => child.outerHTML).join('');
    if (section.getAttribute('data-markup-hash') === hash(markup)) return;
    section.setAttribute('data-markup-hash', hash(markup));
    section.replaceChildren(...children);
  });
}

/** A short fingerprint of a string (FNV-1a), to tell whether a section's markup changed. */
function hash(text: string): string {
  let value = 0x811c9dc5;
  for (let n = 0; n < text.length; n++) value = Math.imul(value ^ text.charCodeAt(n), 0x01000193);
  return (value >>> 0).toString(36);
}

/** DICOM PN "Family^Given^Middle" as "Family, Given Middle". */
export function formatPersonName(name?: string): string | undefined {
  if (!name) return undefined;
  const [family, ...rest] = name.split('^').filter(Boolean);
  return rest.length ? `${family}, ${rest.join(' ')}` : family;
}

export function formatDate(date?: string): string | undefined {
  return date && /^\d{8}$/.test(date) ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}` : date;
}

/** Mounts the panel into `root`; returns the function that unmounts it (unsubscribes). */
export function mountLiverPanel(root: HTMLElement, context: OhifContext): () => void {
  const data: PanelData = {};
  const controller = liverSegmentation(context);
  let alive = true;
  // Updates are drawn together, in a task of their own (not in the frame's animation callbacks, where
  // the viewports render): at most one draw per burst of state changes.
  let scheduled = false;
  const draw = () => {
    scheduled = false;
    if (!alive) return;
    const start = performance.now();
    render(root, data, controller);
    performance.measure('rt-liver:own:panel', { start, end: performance.now() });
  };
  const update = (patch: Partial<PanelData>) => {
    if (!alive) return;
    Object.assign(data, patch);
    if (!scheduled) {
      scheduled = true;
      setTimeout(draw, 0);
    }
  };
  render(root, data, controller);

  const refreshStudy = async () => {
    const studyUid = currentStudyUid(context);
    controller.setStudy(studyUid);
    const displaySetService = context.servicesManager.services.displaySetService;
    const displaySets = displaySetService?.getActiveDisplaySets?.() ?? [];
    const fromDisplaySets = seriesFromDisplaySets(displaySets, studyUid);
    let fromQido: Awaited<ReturnType<typeof seriesFromDataSource>> = [];
    let study = studyFromDisplaySets(displaySets, studyUid);
    if (studyUid) {
      try {
        fromQido = await seriesFromDataSource(context, studyUid);
        if (!study.patientName && !study.description) study = await studyFromDataSource(context, studyUid);
      } catch (error) {
        console.warn('rt-liver: QIDO series search failed', error);
      }
    }
    const series = mergeSeries(fromDisplaySets, fromQido);
    // While OHIF is still building display sets for a CT study, do not claim "no CT" too early.
    if (!series.length) return update({ study });
    const readiness = assessReadiness(series);
    controller.setPreferredSeries(readiness.series?.seriesInstanceUid);
    update({ study, readiness });
  };

  const subscriptions: { unsubscribe: () => void }[] = [];
  const displaySetService = context.servicesManager.services.displaySetService;
  for (const event of ['DISPLAY_SETS_ADDED', 'DISPLAY_SETS_CHANGED', 'DISPLAY_SETS_REMOVED']) {
    const name = displaySetService?.EVENTS?.[event];
    if (name) subscriptions.push(displaySetService.subscribe(name, () => void refreshStudy()));
  }
  void refreshStudy();
  const unsubscribe = controller.subscribe((state) => {
    update({ controller: state });
    // The model loads into its worker while the user looks at the images.
    if (state.catalog && state.backend && state.run.phase === 'idle') controller.prepare();
  });

  return () => {
    alive = false;
    unsubscribe();
    subscriptions.forEach((s) => s.unsubscribe());
    root.replaceChildren();
  };
}
