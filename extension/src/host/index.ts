/**
 * The only place that touches the OHIF host's internals. rt-liver runs inside OHIF 3.13.2's
 * prebuilt viewer and must use the host's Cornerstone3D and React, never a second copy (a second
 * Cornerstone breaks caches and events, a second React breaks hooks):
 *
 *  - Cornerstone3D: the host puts its copy on `window.cornerstone` / `window.cornerstoneTools`.
 *  - React: not exposed. We take it from the bundle's own module registry (rspack's chunk array
 *    `globalThis.rspackChunk`) with a probe (`findReactModuleId`): the one module factory whose source
 *    is React's CommonJS build of the expected version. No module id is pinned, so a rebuild of the
 *    same OHIF that renumbers modules still works; another React, or none, is refused. host.test.ts
 *    runs the probe on the installed dist and the e2e suite checks the running page, both failing
 *    loudly when the host changes.
 */
export const EXPECTED_HOST = {
  ohifVersion: '3.13.2',
  cornerstoneVersion: '5.6.8',
  reactVersion: '18.3.1',
  /** rspack chunk-loading global of the OHIF build. */
  chunkGlobal: 'rspackChunk',
} as const;

/**
 * What identifies React's own module (react/cjs/react.production.min.js) among a bundle's module
 * factories: it assigns these exports and its version. react-dom and other packages that wrap React
 * assign none of createElement, useEffect and useRef themselves.
 */
export const REACT_MODULE_MARKERS = ['exports.createElement=', 'exports.useEffect=', 'exports.useRef='] as const;

/** A bundle's module factories by id (rspack's `require.m`); only their source text is read. */
export type ModuleFactories = Record<string, { toString(): string }>;

/**
 * The id of the module that is React `version` in a bundle's factories, found by its source: the one
 * factory that has every REACT_MODULE_MARKERS and `exports.version="<version>"`. Throws a
 * HostMismatchError when none or more than one matches (the host is not the build rt-liver knows).
 */
export function findReactModuleId(factories: ModuleFactories, version: string = EXPECTED_HOST.reactVersion): string {
  const versionMarker = `exports.version="${version}"`;
  const matches: string[] = [];
  let otherVersion: string | undefined;
  for (const id of Object.keys(factories)) {
    const source = String(factories[id]);
    if (!REACT_MODULE_MARKERS.every((marker) => source.includes(marker))) continue;
    if (source.includes(versionMarker)) matches.push(id);
    else otherVersion ??= /exports\.version="([^"]*)"/.exec(source)?.[1] ?? 'an unknown version';
  }
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw new HostMismatchError(`the bundle holds ${matches.length} copies of React ${version} (modules ${matches.join(', ')})`);
  throw new HostMismatchError(otherVersion ? `its React is not React ${version} (found ${otherVersion})` : 'no module of the bundle is React');
}

export class HostMismatchError extends Error {
  constructor(what: string) {
    super(
      `rt-liver cannot attach to this OHIF viewer: ${what}. rt-liver is built for OHIF ${EXPECTED_HOST.ohifVersion} ` +
        `(Cornerstone3D ${EXPECTED_HOST.cornerstoneVersion}, React ${EXPECTED_HOST.reactVersion}); update extension/src/host/ for the new host.`,
    );
    this.name = 'HostMismatchError';
  }
}

/** The parts of React we use: enough to mount a plain-DOM panel from a host component. */
export interface HostReact {
  version: string;
  createElement: (type: unknown, props?: Record<string, unknown> | null, ...children: unknown[]) => unknown;
  useEffect: (effect: () => void | (() => void), deps?: unknown[]) => void;
  useRef: <T>(initial: T) => { current: T };
}

/** A slice's pixels in the host's cache (a CT image, or one image of a labelmap). */
export interface HostImage {
  imageId: string;
  /** For a derived (labelmap) image: the CT image it lies on. */
  referencedImageId?: string;
  voxelManager: { getScalarData: () => ArrayLike<number> & { length: number }; setScalarData: (data: ArrayLike<number>) => void };
  getPixelData: () => ArrayLike<number> & { length: number };
}

/** A Cornerstone3D image volume (a streaming image volume of a CT series), as far as we read it. */
export interface HostVolume {
  volumeId: string;
  imageIds: string[];
  /** [columns, rows, slices]. */
  dimensions: [number, number, number];
  /** [along a row (between columns), along a column (between rows), between slices], in mm. */
  spacing: [number, number, number];
  /** LPS position of the first voxel's centre. */
  origin: [number, number, number];
  /** Row direction, column direction, slice normal: nine numbers. */
  direction: ArrayLike<number>;
  loadStatus?: { loaded?: boolean; loading?: boolean; cancelled?: boolean };
  /** Number of images (slices) loaded so far. */
  framesLoaded?: number;
  voxelManager: { getCompleteScalarDataArray: () => ArrayLike<number> };
}

export interface HostViewport {
  id: string;
  type: string;
  canvas: HTMLCanvasElement;
  element: HTMLElement;
  getVolumeId?: () => string | undefined;
  render: () => void;
}

/** The parts of Cornerstone3D core and tools we rely on. */
export interface HostCornerstone {
  core: {
    cache: { getVolume: (id: string) => unknown; getImage: (imageId: string) => HostImage | undefined; removeImageLoadObject?: (imageId: string) => void };
    imageLoader: { createAndCacheDerivedLabelmapImage: (referencedImageId: string, options: { imageId: string; instanceNumber?: number }) => HostImage };
    getRenderingEngines: () => { getViewports: () => HostViewport[] }[];
    metaData: { get: (type: string, imageId: string) => unknown };
    Enums: { Events: Record<string, string> };
  };
  tools: {
    ToolGroupManager: { getToolGroup: (id: string) => unknown };
    segmentation: Record<string, unknown> & {
      triggerSegmentationEvents?: { triggerSegmentationDataModified: (segmentationId: string, modifiedSlices?: number[]) => void };
    };
  };
}

type HostWindow = Record<string, unknown>;
/** rspack's runtime require: call it with a module id; `m` holds every module factory loaded so far. */
type RspackRequire = ((id: number | string) => unknown) & { m?: ModuleFactories };

/** The host's Cornerstone3D, checked for the API surface we use. */
export function hostCornerstone(win: HostWindow = globalThis as unknown as HostWindow): HostCornerstone {
  const core = win.cornerstone as HostCornerstone['core'] | undefined;
  const tools = win.cornerstoneTools as HostCornerstone['tools'] | undefined;
  if (!core || !tools) throw new HostMismatchError('window.cornerstone / window.cornerstoneTools are not set (the cornerstone extension is not loaded yet)');
  const missing = [
    ['cornerstone.cache.getVolume', typeof core.cache?.getVolume],
    ['cornerstone.cache.getImage', typeof core.cache?.getImage],
    ['cornerstone.imageLoader.createAndCacheDerivedLabelmapImage', typeof core.imageLoader?.createAndCacheDerivedLabelmapImage],
    ['cornerstone.getRenderingEngines', typeof core.getRenderingEngines],
    ['cornerstone.metaData.get', typeof core.metaData?.get],
    ['cornerstone.Enums.Events', typeof core.Enums?.Events],
    ['cornerstoneTools.ToolGroupManager', typeof tools.ToolGroupManager?.getToolGroup],
    ['cornerstoneTools.segmentation', typeof tools.segmentation],
    ['cornerstoneTools.segmentation.triggerSegmentationEvents', typeof tools.segmentation?.triggerSegmentationEvents?.triggerSegmentationDataModified],
  ].filter(([, type]) => type === 'undefined');
  if (missing.length) throw new HostMismatchError(`Cornerstone3D lacks ${missing.map(([name]) => name).join(', ')}`);
  return { core, tools };
}

let cachedReact: HostReact | undefined;

/** The host's React, from the bundle's module registry; the same object OHIF renders with. */
export function hostReact(win: HostWindow = globalThis as unknown as HostWindow): HostReact {
  if (cachedReact) return cachedReact;
  const chunks = win[EXPECTED_HOST.chunkGlobal] as { push: (chunk: unknown) => unknown } | undefined;
  if (!chunks || typeof chunks.push !== 'function') throw new HostMismatchError(`globalThis.${EXPECTED_HOST.chunkGlobal} is missing (not an rspack build of OHIF)`);
  let require: RspackRequire | undefined;
  // A chunk with no modules and a runtime callback: the runtime hands us its require function.
  chunks.push([[`rt-liver-host-${Date.now()}-${Math.random()}`], {}, (runtimeRequire: RspackRequire) => { require = runtimeRequire; }]);
  if (!require) throw new HostMismatchError('the chunk registry did not run our runtime callback');
  if (!require.m) throw new HostMismatchError('the chunk runtime exposes no module factories (require.m)');
  const reactModuleId = findReactModuleId(require.m);
  let react: HostReact;
  try {
    // OHIF has rendered with it already: this returns the instance in the module cache, not a new one.
    react = require(reactModuleId) as HostReact;
  } catch (error) {
    throw new HostMismatchError(`module ${reactModuleId} (React) could not be loaded (${(error as Error).message})`);
  }
  if (!react || react.version !== EXPECTED_HOST.reactVersion || typeof react.createElement !== 'function' || typeof react.useEffect !== 'function') {
    throw new HostMismatchError(`module ${reactModuleId} is not React ${EXPECTED_HOST.reactVersion} (found ${String((react as { version?: string })?.version)})`);
  }
  cachedReact = react;
  return react;
}

/** A report of the host check, for the panel and the e2e suite (window.rtLiverHost). */
export interface HostReport {
  ok: boolean;
  reactVersion?: string;
  problems: string[];
}

export function checkHost(win: HostWindow = globalThis as unknown as HostWindow): HostReport {
  const problems: string[] = [];
  let reactVersion: string | undefined;
  try {
    reactVersion = hostReact(win).version;
  } catch (error) {
    problems.push((error as Error).message);
  }
  try {
    hostCornerstone(win);
  } catch (error) {
    problems.push((error as Error).message);
  }
  return { ok: problems.length === 0, reactVersion, problems };
}
