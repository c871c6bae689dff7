/**
 * rt-liver borrows React and Cornerstone3D from the OHIF bundle it runs in (see index.ts). These
 * tests read the installed OHIF dist and fail loudly when it is not the host we were built for:
 * another OHIF version, no React (or two) for the probe to find, Cornerstone no longer on window. The e2e
 * suite checks the same in the running page (window.rtLiverHost).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EXPECTED_HOST, HostMismatchError, checkHost, findReactModuleId, hostCornerstone, hostReact, type ModuleFactories } from './index';

const OHIF_APP = join(__dirname, '..', '..', '..', 'node_modules', '@ohif', 'app');
const DIST = join(OHIF_APP, 'dist');

/** A bundle's module factories as their source text, split at rspack's `<id>(<parameters>) {` headers. */
function moduleFactories(text: string): ModuleFactories {
  const headers = [...text.matchAll(/^(\d+)\(([^)]*)\) \{$/gm)];
  return Object.fromEntries(headers.map((match, index) => {
    const source = text.slice(match.index, headers[index + 1]?.index ?? text.length);
    return [match[1], { toString: () => source }];
  }));
}

function bundle(predicate: (text: string) => boolean): string | undefined {
  for (const name of readdirSync(DIST).filter((n) => n.endsWith('.js'))) {
    const text = readFileSync(join(DIST, name), 'utf8');
    if (predicate(text)) return text;
  }
  return undefined;
}

describe('the installed OHIF host', () => {
  const appBundleName = readdirSync(DIST).find((n) => /^app\.bundle\..*\.js$/.test(n));
  const appBundle = appBundleName ? readFileSync(join(DIST, appBundleName), 'utf8') : '';

  test(`is OHIF ${EXPECTED_HOST.ohifVersion}`, () => {
    const { version } = JSON.parse(readFileSync(join(OHIF_APP, 'package.json'), 'utf8')) as { version: string };
    expect(version).toBe(EXPECTED_HOST.ohifVersion);
  });

  test(`registers its modules in globalThis.${EXPECTED_HOST.chunkGlobal}`, () => {
    expect(appBundle).toContain(`globalThis["${EXPECTED_HOST.chunkGlobal}"]`);
  });

  test(`has exactly one React ${EXPECTED_HOST.reactVersion}, found by the probe, and it is the React the app imports`, () => {
    const factories = moduleFactories(appBundle);
    expect(Object.keys(factories).length).toBeGreaterThan(100);
    const id = findReactModuleId(factories);
    // The app's `import React from 'react'` goes through react/index.js, which re-exports that module.
    const indexId = /\/\/ EXTERNAL MODULE: \.\.\/\.\.\/\.\.\/node_modules\/react\/index\.js\nvar react = __webpack_require__\((\d+)\);/.exec(appBundle)?.[1];
    expect(indexId).toBeDefined();
    expect(String(factories[indexId!])).toContain(`module.exports = __webpack_require__(${id});`);
    expect(appBundle).toContain(`"${EXPECTED_HOST.reactVersion}"`);
  });

  test('puts its Cornerstone3D on window.cornerstone and window.cornerstoneTools', () => {
    const cornerstoneExtension = bundle((text) => text.includes('window.cornerstone = esm;'));
    expect(cornerstoneExtension).toBeDefined();
    expect(cornerstoneExtension).toContain('window.cornerstoneTools = dist_esm;');
  });

  test(`bundles Cornerstone3D ${EXPECTED_HOST.cornerstoneVersion}`, () => {
    const withVersion = bundle((text) => text.includes(`version = '${EXPECTED_HOST.cornerstoneVersion}'`) || text.includes(`"${EXPECTED_HOST.cornerstoneVersion}"`));
    expect(withVersion).toBeDefined();
  });
});

describe('attaching to a page that is not the expected host', () => {
  test('a page without OHIF reports every missing piece, naming the expected versions', () => {
    const report = checkHost({});
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/rspackChunk is missing/);
    expect(report.problems.join('\n')).toMatch(/window\.cornerstone .* not set/);
    expect(report.problems[0]).toContain(`OHIF ${EXPECTED_HOST.ohifVersion}`);
  });

  test('a registry whose module is not React is refused', () => {
    // A bundle whose React-like module is another version: the probe finds it and names what it found.
    const reactLike = 'exports.createElement=function(){};exports.useEffect=function(){};exports.useRef=function(){};exports.version="19.0.0";';
    const require = Object.assign(() => ({ version: '19.0.0', createElement() {} }), { m: { 1: { toString: () => reactLike } } });
    const registry = {
      push: (chunk: [unknown, unknown, (runtimeRequire: typeof require) => void]) => chunk[2](require),
    };
    expect(() => hostReact({ [EXPECTED_HOST.chunkGlobal]: registry })).toThrow(/is not React 18\.3\.1 \(found 19\.0\.0\)/);
  });

  test('the React probe refuses a bundle without React, and one with two copies', () => {
    const react = 'exports.createElement=a;exports.useEffect=b;exports.useRef=c;exports.version="18.3.1";';
    expect(() => findReactModuleId({ 1: { toString: () => 'exports.createPortal=a;exports.version="18.3.1";' } })).toThrow(/no module of the bundle is React/);
    expect(() => findReactModuleId({ 1: { toString: () => react }, 2: { toString: () => react } })).toThrow(/2 copies of React 18\.3\.1/);
    expect(findReactModuleId({ 1: { toString: () => 'exports.useEffect=x' }, 7: { toString: () => react } })).toBe('7');
  });

  test('a Cornerstone without the API we use is refused', () => {
    expect(() => hostCornerstone({ cornerstone: { cache: {} }, cornerstoneTools: {} })).toThrow(HostMismatchError);
    expect(() => hostCornerstone({ cornerstone: { cache: {} }, cornerstoneTools: {} })).toThrow(/cornerstone\.cache\.getVolume/);
  });
});
