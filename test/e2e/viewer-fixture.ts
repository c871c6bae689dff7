/**
 * Starts the real viewer server for the e2e suite on a free port, with its own static DICOMweb
 * store in a temporary folder: the demo phantom study (var/studies/phantom, generated when missing,
 * the same study `npm start` shows), two bad-input studies (a CT series of one image, a study with
 * no CT) and, when ../shared/data is present, a real CT study.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as dcmjs from 'dcmjs';
import type { Browser } from 'playwright-core';
import { writeCtSeries, writePart10 } from '../../synthetic/ct-series-writer';
import { makeAbdomenPhantom } from '../../synthetic/phantom';
import { uidFromSeed } from '../../synthetic/random';
import type { Volume } from '../../extension/src/core/volume';
import { createViewerServer, defaultPaths, listen } from '../../scripts/server/app';
import type { PacsConfig } from '../../scripts/server/pacs-proxy';
import { publishDicom } from '../../scripts/server/publish';
import { demoStudyPaths, ensureDemoStudy } from '../../scripts/data/demo-study';
import { launchChromium } from '../support/browser';
import { type OrthancHandle, startOrthanc, uploadFolder } from '../support/orthanc';
import { sharedDataPath } from '../support/shared-data';

export const REPO_ROOT = resolve(__dirname, '..', '..');

export interface FixtureStudy {
  studyInstanceUid: string;
  patientName: string;
}

export interface ViewerFixture {
  url: string;
  storeDir: string;
  demo: FixtureStudy;
  singleImage: FixtureStudy;
  noCt: FixtureStudy;
  /** crlm-ct-1004 from ../shared/data, when present. */
  real?: FixtureStudy;
  /** The CT studies asked for in `sharedCt` that are present in ../shared/data, by folder name. */
  sharedCt: Record<string, FixtureStudy & { folder: string }>;
  /**
   * With `fieldSeries`: generated phantom series 360 mm head to feet (a second pass segments it) and 105 mm
   * (a slab: the model sees it padded).
   */
  longSeries?: FixtureStudy & { folder: string };
  shortSeries?: FixtureStudy & { folder: string };
  close: () => Promise<void>;
}

/** Builds the plugins from the current sources (a few seconds), so the suite tests this tree. */
export function buildPlugins(): void {
  execFileSync('npx', ['webpack', '--config', 'webpack.config.js'], { cwd: REPO_ROOT, stdio: 'pipe' });
}

function writeFiles(dir: string, files: { name: string; bytes: ArrayBuffer }[]): void {
  mkdirSync(dir, { recursive: true });
  for (const file of files) writeFileSync(join(dir, file.name), new Uint8Array(file.bytes));
}

/** One axial slice of a volume as a volume of its own. */
function oneSlice(volume: Volume<Int16Array>, k: number): Volume<Int16Array> {
  const [nx, ny] = volume.dimensions;
  const origin = [0, 1, 2].map((a) => volume.origin[a] + volume.direction[2][a] * volume.spacing[2] * k) as Volume['origin'];
  return { ...volume, dimensions: [nx, ny, 1], origin, voxels: volume.voxels.slice(nx * ny * k, nx * ny * (k + 1)) };
}

/** A CT file turned into an MR instance of a study of its own: a study without any CT. */
function mrFromCt(ctBytes: ArrayBuffer, seed: string): { name: string; bytes: ArrayBuffer } {
  const file = dcmjs.data.DicomMessage.readFile(ctBytes);
  const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(file.dict) as Record<string, unknown>;
  const sop = uidFromSeed(seed, 'instance');
  Object.assign(dataset, {
    Modality: 'MR',
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.4',
    SOPInstanceUID: sop,
    StudyInstanceUID: uidFromSeed(seed, 'study'),
    SeriesInstanceUID: uidFromSeed(seed, 'series'),
    PatientName: 'Bad input^No CT',
    PatientID: 'RT-LIVER-NO-CT',
    StudyDescription: 'MR only (no CT)',
    SeriesDescription: 'MR slice',
  });
  delete dataset.RescaleIntercept;
  delete dataset.RescaleSlope;
  delete dataset.RescaleType;
  return { name: 'mr.dcm', bytes: writePart10(dataset, sop) };
}

export async function startViewerFixture(options: { pacs?: PacsConfig; sharedCt?: string[]; fieldSeries?: boolean } = {}): Promise<ViewerFixture> {
  buildPlugins();
  const work = mkdtempSync(join(tmpdir(), 'rt-liver-e2e-'));
  const storeDir = join(work, 'dicomweb');

  const varDir = join(REPO_ROOT, 'var');
  const demo = ensureDemoStudy(varDir);
  publishDicom(demoStudyPaths(varDir).seriesDir, storeDir);

  // The bad-input studies are small variants of a phantom of their own.
  const phantom = makeAbdomenPhantom({ seed: 'rt-liver-bad-input', dimensions: [128, 128, 64], spacing: [2.8, 2.8, 3.75] });

  const singleSeries = writeCtSeries(oneSlice(phantom.ct, 32), {
    seed: 'rt-liver-single-image',
    patientName: 'Bad input^Single image',
    patientID: 'RT-LIVER-ONE-IMAGE',
    studyDescription: 'CT series of one image',
  });
  writeFiles(join(work, 'single'), singleSeries.files);
  publishDicom(join(work, 'single'), storeDir);

  writeFiles(join(work, 'no-ct'), [mrFromCt(singleSeries.files[0].bytes, 'rt-liver-no-ct')]);
  publishDicom(join(work, 'no-ct'), storeDir);

  let real: FixtureStudy | undefined;
  const realFolder = sharedDataPath('ct', 'crlm-ct-1004');
  if (realFolder) {
    const published = publishDicom(realFolder, storeDir);
    real = { studyInstanceUid: published.studies[0].studyInstanceUid, patientName: 'CRLM-CT-1004' };
  }

  const sharedCt: ViewerFixture['sharedCt'] = {};
  for (const name of options.sharedCt ?? []) {
    const folder = sharedDataPath('ct', name);
    if (!folder || name === 'crlm-ct-1004') continue;
    const published = publishDicom(folder, storeDir);
    sharedCt[name] = { studyInstanceUid: published.studies[0].studyInstanceUid, patientName: name.toUpperCase(), folder };
  }
  if (real && options.sharedCt?.includes('crlm-ct-1004')) sharedCt['crlm-ct-1004'] = { ...real, folder: realFolder! };

  const phantomSeries = (name: string, slices: number, description: string) => {
    const seed = `rt-liver-${name}-series`;
    const { ct } = makeAbdomenPhantom({ seed, dimensions: [96, 96, slices], spacing: [3.6, 3.6, 7.5] });
    const patientName = `Phantom^${name[0].toUpperCase()}${name.slice(1)} series`;
    const series = writeCtSeries(ct, { seed, patientName, patientID: `RT-LIVER-${name.toUpperCase()}`, studyDescription: description });
    writeFiles(join(work, name), series.files);
    publishDicom(join(work, name), storeDir);
    return { studyInstanceUid: series.studyInstanceUID, patientName, folder: join(work, name) };
  };
  const longSeries = options.fieldSeries ? phantomSeries('long', 48, 'CT 360 mm head to feet') : undefined;
  const shortSeries = options.fieldSeries ? phantomSeries('short', 14, 'CT 105 mm head to feet') : undefined;

  const server: Server = createViewerServer({ ...defaultPaths(REPO_ROOT), storeDir, pacs: options.pacs });
  const port = await listen(server, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    storeDir,
    demo: { studyInstanceUid: demo.studyInstanceUID, patientName: 'Phantom^Liver Demo' },
    singleImage: { studyInstanceUid: singleSeries.studyInstanceUID, patientName: 'Bad input^Single image' },
    noCt: { studyInstanceUid: uidFromSeed('rt-liver-no-ct', 'study'), patientName: 'Bad input^No CT' },
    real,
    sharedCt,
    longSeries,
    shortSeries,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** A real Orthanc with Basic auth, loaded with one series, behind the viewer's PACS proxy, and Chromium. */
export interface PacsViewerHarness {
  orthanc: OrthancHandle;
  fixture: ViewerFixture;
  browser: Browser;
  /** How many files of the series Orthanc accepted. */
  uploaded: number;
  close: () => Promise<void>;
}

export async function startPacsViewerHarness(options: { seriesDir: string; username: string; password: string; name: string }): Promise<PacsViewerHarness> {
  const { seriesDir, username, password, name } = options;
  const orthanc = await startOrthanc({ username, password });
  const { uploaded } = await uploadFolder(orthanc, seriesDir);
  const fixture = await startViewerFixture({ pacs: { url: orthanc.url, username, password, name } });
  const browser = await launchChromium();
  return {
    orthanc,
    fixture,
    browser,
    uploaded,
    close: async () => {
      await browser.close();
      await fixture.close();
      await orthanc.stop();
    },
  };
}

/** The route that opens a study in the Real-time Liver mode. */
export function modeUrl(fixture: { url: string }, studyInstanceUid: string, dataSource = 'local'): string {
  return `${fixture.url}/realtime-liver/${dataSource}?StudyInstanceUIDs=${studyInstanceUid}`;
}
