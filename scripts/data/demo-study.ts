/**
 * The demo study: abdominal phantom seed 1 as a DICOM CT series in var/studies/phantom/, its liver
 * mask (the ground truth for tests) in var/studies/phantom-liver.nii.gz, all organ labels in
 * var/studies/phantom-labels.nii.gz, and var/studies/phantom.json with the UIDs and geometry.
 * phantom.json is written last: its presence means the study is complete.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeNifti } from '../../extension/src/core/nifti';
import { writeCtSeries } from '../../synthetic/ct-series-writer';
import { PHANTOM_LABELS, PHANTOM_VERSION, makeAbdomenPhantom } from '../../synthetic/phantom';
import { voxelVolumeMl } from '../../extension/src/core/volume';
import { writeFileAtomic } from './files';

export const DEMO_SEED = 1;

export interface DemoStudyInfo {
  seed: number;
  /** PHANTOM_VERSION it was made with; another version means the study is stale. */
  phantomVersion: number;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  frameOfReferenceUID: string;
  /** File names in var/studies/phantom/ and their SOP Instance UIDs, in slice (k) order, inferior to superior. */
  files: string[];
  sopInstanceUIDs: string[];
  dimensions: number[];
  spacing: number[];
  origin: number[];
  direction: number[][];
  liverVolumeMl: number;
  liverMask: string;
  labels: string;
  labelNames: Record<string, number>;
}

export interface DemoStudyPaths {
  seriesDir: string;
  liverMask: string;
  labels: string;
  info: string;
}

export function demoStudyPaths(varDir: string): DemoStudyPaths {
  const studies = join(varDir, 'studies');
  return {
    seriesDir: join(studies, 'phantom'),
    liverMask: join(studies, 'phantom-liver.nii.gz'),
    labels: join(studies, 'phantom-labels.nii.gz'),
    info: join(studies, 'phantom.json'),
  };
}

/** The demo study's description, or undefined when it is missing, incomplete or from another phantom version. */
export function readDemoStudyInfo(varDir: string): DemoStudyInfo | undefined {
  const paths = demoStudyPaths(varDir);
  if (!existsSync(paths.info)) return undefined;
  const info = JSON.parse(readFileSync(paths.info, 'utf8')) as DemoStudyInfo;
  const complete = info.phantomVersion === PHANTOM_VERSION && existsSync(paths.liverMask) &&
    info.files.every((name) => existsSync(join(paths.seriesDir, name)));
  return complete ? info : undefined;
}

/**
 * Generates the demo study unless it is already there; returns its description. Safe when several
 * processes ask at once (parallel jest workers, the server and a test): one generates under a lock
 * file, the others wait for it (synchronously: callers are scripts and test set-up).
 */
export function ensureDemoStudy(varDir: string, log: (line: string) => void = () => {}): DemoStudyInfo {
  const existing = readDemoStudyInfo(varDir);
  if (existing) {
    log(`demo study: already in ${demoStudyPaths(varDir).seriesDir}`);
    return existing;
  }
  const lock = join(varDir, 'studies', '.phantom.lock');
  mkdirSync(join(varDir, 'studies'), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    const handle = tryLock(lock);
    if (handle !== undefined) {
      try {
        return readDemoStudyInfo(varDir) ?? generateDemoStudy(varDir, log);
      } finally {
        closeSync(handle);
        rmSync(lock, { force: true });
      }
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lock}; delete it if no generator is running.`);
    sleepSync(200);
  }
}

/** Creates the lock file (holding our pid), or returns undefined while a live process holds it. */
function tryLock(lock: string): number | undefined {
  try {
    const handle = openSync(lock, 'wx');
    writeSync(handle, String(process.pid));
    return handle;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // A lock left by a process that died is removed; a live holder is waited for.
  const holder = Number(readFileSync(lock, 'utf8').trim());
  if (holder > 0 && !isAlive(holder)) rmSync(lock, { force: true });
  return undefined;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function generateDemoStudy(varDir: string, log: (line: string) => void): DemoStudyInfo {
  const paths = demoStudyPaths(varDir);
  rmSync(paths.info, { force: true });
  rmSync(paths.seriesDir, { recursive: true, force: true });
  const started = performance.now();
  const phantom = makeAbdomenPhantom({ seed: DEMO_SEED });
  const series = writeCtSeries(phantom.ct, {
    seed: `rt-liver-demo-${DEMO_SEED}`,
    patientName: 'Phantom^Liver Demo',
    patientID: `RTLIVER-PHANTOM-${DEMO_SEED}`,
    patientSex: 'O',
    studyDescription: 'Demo abdominal CT phantom (synthetic)',
    seriesDescription: 'Abdomen portal venous 2.5 mm (synthetic phantom)',
    seriesNumber: 2,
    accessionNumber: `RTL${DEMO_SEED}`,
    institutionName: 'rt-liver synthetic data',
  });
  for (const file of series.files) writeFileAtomic(join(paths.seriesDir, file.name), file.bytes);
  writeFileAtomic(paths.liverMask, writeNifti(phantom.liver, { gzip: true, intent: 'label', description: 'rt-liver demo phantom liver' }));
  writeFileAtomic(paths.labels, writeNifti(phantom.labels, { gzip: true, intent: 'label', description: 'rt-liver demo phantom labels' }));
  let liverVoxels = 0;
  for (const value of phantom.liver.voxels) liverVoxels += value;
  const info: DemoStudyInfo = {
    seed: DEMO_SEED,
    phantomVersion: PHANTOM_VERSION,
    studyInstanceUID: series.studyInstanceUID,
    seriesInstanceUID: series.seriesInstanceUID,
    frameOfReferenceUID: series.frameOfReferenceUID,
    files: series.files.map((file) => file.name),
    sopInstanceUIDs: series.files.map((file) => file.sopInstanceUID),
    dimensions: phantom.ct.dimensions,
    spacing: phantom.ct.spacing,
    origin: phantom.ct.origin,
    direction: phantom.ct.direction,
    liverVolumeMl: Math.round(liverVoxels * voxelVolumeMl(phantom.ct) * 10) / 10,
    liverMask: 'phantom-liver.nii.gz',
    labels: 'phantom-labels.nii.gz',
    labelNames: { ...PHANTOM_LABELS },
  };
  writeFileAtomic(paths.info, `${JSON.stringify(info, null, 2)}\n`);
  log(`demo study: ${series.files.length} CT instances in ${paths.seriesDir}, liver ${info.liverVolumeMl} mL, ${Math.round(performance.now() - started)} ms`);
  return info;
}
