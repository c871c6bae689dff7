/**
 * The Real-time Liver side panel, as plain DOM: mounted into an element that a minimal host React
 * component provides (getPanelModule.ts), so rt-liver needs no React of its own. Shows the study
 * and series, the bundled model, the inference backend this browser would use, and a state that
 * says whether segmentation is possible here and, if not, why.
 */
import { BackendInfo, browserCapabilities, detectBackend } from './backend';
import { ModelSummary, loadModelSummary } from './modelInfo';
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
  model?: ModelSummary;
  backend?: BackendInfo;
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
  loading: 'padding:8px;border-radius:4px;background:#1d2a3e;color:#b8c7dc',
};

function field(label: string, testId: string, value: string): HTMLElement {
  return h('div', {}, h('div', { style: STYLE.label }, label), h('div', { 'data-testid': testId }, value));
}

function render(root: HTMLElement, data: PanelData): void {
  const { study, readiness, model, backend } = data;
  const studyText = study
    ? [formatPersonName(study.patientName), study.description, formatDate(study.date)].filter(Boolean).join(' · ') || study.studyInstanceUid || 'unknown study'
    : 'loading…';
  const series = readiness?.series;
  const seriesText = series
    ? `${series.modality} · ${series.description ?? 'no description'} · ${series.numberOfImages} image${series.numberOfImages === 1 ? '' : 's'}`
    : readiness ? 'no CT series' : 'loading…';
  let state: HTMLElement;
  if (!readiness) state = h('div', { style: STYLE.loading, 'data-testid': 'rt-liver-state', 'data-state': 'loading' }, 'Reading the study…');
  else if (readiness.ready) {
    state = h('div', { style: STYLE.ready, 'data-testid': 'rt-liver-state', 'data-state': 'ready' },
      `${readiness.message} Automatic liver segmentation is not part of this version yet.`);
  } else state = h('div', { style: STYLE.unavailable, 'data-testid': 'rt-liver-state', 'data-state': 'unavailable' }, readiness.reason);

  root.replaceChildren(
    h('div', { style: STYLE.panel, 'data-testid': 'rt-liver-panel-content' },
      h('div', { style: STYLE.title }, 'Real-time Liver'),
      field('Study', 'rt-liver-study', studyText),
      field('Series', 'rt-liver-series', seriesText),
      field('Model', 'rt-liver-model', model?.text ?? 'loading…'),
      ...(model?.caution ? [h('div', { style: STYLE.unavailable, 'data-testid': 'rt-liver-model-caution' }, model.caution)] : []),
      field('Backend', 'rt-liver-backend', backend?.text ?? 'detecting…'),
      state,
    ),
  );
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
  let alive = true;
  const update = (patch: Partial<PanelData>) => {
    if (!alive) return;
    Object.assign(data, patch);
    render(root, data);
  };
  render(root, data);

  const refreshStudy = async () => {
    const studyUid = currentStudyUid(context);
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
    update({ study, readiness: assessReadiness(series) });
  };

  const subscriptions: { unsubscribe: () => void }[] = [];
  const displaySetService = context.servicesManager.services.displaySetService;
  for (const event of ['DISPLAY_SETS_ADDED', 'DISPLAY_SETS_CHANGED', 'DISPLAY_SETS_REMOVED']) {
    const name = displaySetService?.EVENTS?.[event];
    if (name) subscriptions.push(displaySetService.subscribe(name, () => void refreshStudy()));
  }
  void refreshStudy();
  void loadModelSummary().then((model) => update({ model }));
  void detectBackend(browserCapabilities()).then((backend) => update({ backend }));

  return () => {
    alive = false;
    subscriptions.forEach((s) => s.unsubscribe());
    root.replaceChildren();
  };
}
