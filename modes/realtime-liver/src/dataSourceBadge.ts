/**
 * Which data source is on screen, and a way to the others: a small element in OHIF's header (the
 * logo slot, `whiteLabeling.createLogoComponentFn`, drawn on the study list and in the viewer)
 * that names the current data source ("local studies" or the PACS) and links to the study list of
 * each other one. Without it, the PACS study list is reachable only by typing `?datasources=pacs`.
 */

export interface DataSourceConfig {
  sourceName: string;
  friendlyName?: string;
  configuration?: { friendlyName?: string };
}

export interface AppConfigLike {
  dataSources?: DataSourceConfig[];
  defaultDataSourceName?: string;
  /** Where OHIF's routes start ('/' here). */
  routerBasename?: string;
  whiteLabeling?: { createLogoComponentFn?: unknown };
}

export interface DataSourceChoice {
  name: string;
  label: string;
  /** The study list of this data source. */
  href: string;
}

export interface DataSourceState {
  current: DataSourceChoice;
  others: DataSourceChoice[];
}

/** OHIF's own local-file sources, which have no study list of their own. */
const NOT_LISTED = new Set(['dicomjson', 'dicomlocal']);

function choice(source: DataSourceConfig, basename: string): DataSourceChoice {
  const label = source.configuration?.friendlyName ?? source.friendlyName ?? source.sourceName;
  return { name: source.sourceName, label, href: `${basename}?datasources=${encodeURIComponent(source.sourceName)}` };
}

/**
 * The data source OHIF shows for this URL: the second path segment of a viewer route
 * (`/realtime-liver/pacs?...`), else the `datasources` parameter of the study list, else the
 * configured default. Undefined when the config lists no data source.
 */
export function dataSourceState(config: AppConfigLike, location: { pathname: string; search: string }): DataSourceState | undefined {
  const sources = (config.dataSources ?? []).filter((source) => !NOT_LISTED.has(source.sourceName));
  if (!sources.length) return undefined;
  const basename = (config.routerBasename ?? '/').replace(/\/?$/, '/');
  const byName = (name: string | null | undefined) => sources.find((source) => source.sourceName.toLowerCase() === name?.toLowerCase());
  const segments = location.pathname.slice(basename.length - 1).split('/').filter(Boolean);
  const params = new URLSearchParams(location.search);
  const fromParams = [...params.entries()].find(([key]) => key.toLowerCase() === 'datasources')?.[1];
  const current = (segments.length >= 2 ? byName(segments[1]) : undefined) ?? byName(fromParams) ?? byName(config.defaultDataSourceName) ?? sources[0];
  return { current: choice(current, basename), others: sources.filter((source) => source !== current).map((source) => choice(source, basename)) };
}

/** The parts of React the header passes to the logo function. */
export interface ReactLike {
  createElement: (type: string, props?: Record<string, unknown> | null, ...children: unknown[]) => unknown;
}

export const BADGE_TEST_ID = 'rt-liver-data-source';

export function renderDataSourceBadge(React: ReactLike, state: DataSourceState): unknown {
  const h = React.createElement;
  // The header makes its logo slot a "back to the study list" button in the viewer; a link here
  // goes where it says instead.
  const stop = (event: { stopPropagation: () => void }) => event.stopPropagation();
  const links = state.others.map((other) =>
    h(
      'a',
      { key: other.name, href: other.href, onClick: stop, 'data-source-link': other.name, className: 'text-primary ml-3 underline hover:opacity-80' },
      `${other.label} study list`,
    ),
  );
  return h(
    'div',
    { 'data-testid': BADGE_TEST_ID, 'data-source': state.current.name, className: 'flex items-center whitespace-nowrap text-sm text-white' },
    h('span', { className: 'font-semibold' }, 'rt-liver'),
    h('span', { className: 'text-muted-foreground ml-3' }, 'Data source:'),
    h('span', { className: 'ml-1', 'data-source-label': '' }, state.current.label),
    ...links,
  );
}

/**
 * Puts the badge in the header's logo slot, unless the app config brings its own logo. OHIF
 * calls a mode's `getCommandsModule` once at start-up with the app config, before the study list
 * renders; index.ts calls this from there.
 */
export function installDataSourceBadge(appConfig: AppConfigLike, win: { location: { pathname: string; search: string } } = globalThis as unknown as Window): boolean {
  if (appConfig.whiteLabeling?.createLogoComponentFn) return false;
  appConfig.whiteLabeling = {
    ...appConfig.whiteLabeling,
    createLogoComponentFn: (React: ReactLike) => {
      const state = dataSourceState(appConfig, win.location);
      // null: OHIF draws its own logo.
      return state ? renderDataSourceBadge(React, state) : null;
    },
  };
  return true;
}
