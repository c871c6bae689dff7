/**
 * A training set of phantoms in the Medical Segmentation Decathlon Task03_Liver layout:
 *   imagesTr/liver_N.nii.gz (int16 HU), labelsTr/liver_N.nii.gz (uint8, 1 = liver), dataset.json.
 * Case N is phantom seed 1000 + N, so the set never contains the demo patient (seed 1).
 *
 * The model sees the whole scan resized to a fixed grid, so the field of view matters as much as the
 * anatomy: unless `fieldOfView: 'fixed'`, each case gets its own voxel size (in-plane 1.7-2.1 mm,
 * slices 2.5-3.5 mm) and a shifted centre (cranio-caudal -20..+25 mm, in-plane +-10 mm), drawn from
 * its seed, on the same 192 x 192 x 80 matrix. Real scans differ in the same ways. Likewise the
 * enhancement: by default each case is unenhanced, moderately enhanced or portal-venous, by seed.
 * With `liverShapes` (e.g. the CHAOS MR labels), the livers are real shapes instead of ellipsoids.
 *
 * Existing cases are kept, unless rt-liver-rule.json says they were made by another phantom version
 * or grid rule (then the whole set is made again); dataset.json always lists exactly the requested cases.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeNifti } from '../../extension/src/core/nifti';
import { PHANTOM_VERSION, makeAbdomenPhantom } from '../../synthetic/phantom';
import type { ContrastPhase } from '../../synthetic/phantom-anatomy';
import type { LiverShape } from '../../synthetic/liver-shape';
import { Random } from '../../synthetic/random';
import type { Vec3 } from '../../extension/src/core/volume';
import { writeFileAtomic } from './files';

export const TRAINING_DIMENSIONS: Vec3 = [192, 192, 80];
/** The nominal voxel size; the per-case sizes vary around it. */
export const TRAINING_SPACING: Vec3 = [1.9, 1.9, 3];
export const TRAINING_SEED_BASE = 1000;

export interface MsdDatasetOptions {
  count?: number;
  dimensions?: Vec3;
  /** Voxel size for 'fixed'; the centre of the ranges for 'varied'. */
  spacing?: Vec3;
  /** 'varied' (default): per-case voxel size and centre; 'fixed': every case on the same grid. */
  fieldOfView?: 'varied' | 'fixed';
  /** Enhancement of the phantoms; default 'mixed' (unenhanced, moderate or portal-venous by seed). */
  contrastPhase?: ContrastPhase;
  /** Real liver shapes; case N uses shape N mod length (see liver-shape.ts). Default: ellipsoid livers. */
  liverShapes?: LiverShape[];
}

export interface MsdCaseGrid {
  seed: number;
  spacing: Vec3;
  center: Vec3;
  /** Name of the real liver shape used, if any. */
  liverShape?: string;
}

export function msdCasePaths(root: string, index: number): { image: string; label: string } {
  return { image: join(root, 'imagesTr', `liver_${index}.nii.gz`), label: join(root, 'labelsTr', `liver_${index}.nii.gz`) };
}

/** The grid of case `index`: deterministic from its seed. */
export function msdCaseGrid(index: number, spacing: Vec3, fieldOfView: 'varied' | 'fixed'): MsdCaseGrid {
  const seed = TRAINING_SEED_BASE + index;
  if (fieldOfView === 'fixed') return { seed, spacing, center: [0, 0, 0] };
  const random = new Random(`msd-grid|${seed}`);
  const round = (value: number) => Math.round(value * 1000) / 1000;
  const inPlane = round(spacing[0] * random.range(0.9, 1.1));
  return {
    seed,
    spacing: [inPlane, round(inPlane * (spacing[1] / spacing[0])), round(spacing[2] * random.range(0.84, 1.17))],
    center: [round(random.range(-10, 10)), round(random.range(-10, 10)), round(random.range(-20, 25))],
  };
}

export function generateMsdDataset(root: string, options: MsdDatasetOptions = {}, log: (line: string) => void = () => {}): { written: number; kept: number } {
  const count = options.count ?? 40;
  const dimensions = options.dimensions ?? TRAINING_DIMENSIONS;
  const spacing = options.spacing ?? TRAINING_SPACING;
  const fieldOfView = options.fieldOfView ?? 'varied';
  const contrastPhase = options.contrastPhase ?? 'mixed';
  const shapes = options.liverShapes ?? [];
  const liverShapes = shapes.map((shape, n) => shape.name ?? `shape-${n}`);
  const rule = { phantomVersion: PHANTOM_VERSION, dimensions, spacing, fieldOfView, contrastPhase, liverShapes };
  let written = 0;
  let kept = 0;
  if (isStale(root, rule)) {
    log(`training set: ${root} was made by another phantom version or grid rule, or by an interrupted run; making it again`);
    rmSync(join(root, 'imagesTr'), { recursive: true, force: true });
    rmSync(join(root, 'labelsTr'), { recursive: true, force: true });
  }
  // The rule goes down before any case, so cases left by an interrupted run are known to match it.
  writeFileAtomic(join(root, RULE_FILE), `${JSON.stringify(rule, null, 2)}\n`);
  const grids: MsdCaseGrid[] = [];
  for (let index = 0; index < count; index++) {
    const shape = shapes.length ? shapes[index % shapes.length] : undefined;
    const grid: MsdCaseGrid = { ...msdCaseGrid(index, spacing, fieldOfView), ...(shape ? { liverShape: liverShapes[index % shapes.length] } : {}) };
    grids.push(grid);
    const paths = msdCasePaths(root, index);
    if (existsSync(paths.image) && existsSync(paths.label)) {
      kept++;
      continue;
    }
    const started = performance.now();
    const phantom = makeAbdomenPhantom({ seed: grid.seed, dimensions, spacing: grid.spacing, center: grid.center, contrastPhase, liverShape: shape });
    // Fast gzip: the set is regenerated more often than it is shipped.
    writeFileAtomic(paths.label, writeNifti(phantom.liver, { gzip: true, gzipLevel: 3, intent: 'label', description: `rt-liver phantom seed ${grid.seed} liver` }));
    writeFileAtomic(paths.image, writeNifti(phantom.ct, { gzip: true, gzipLevel: 3, description: `rt-liver phantom seed ${grid.seed} CT (HU)` }));
    written++;
    log(`training set: liver_${index} (seed ${grid.seed}) in ${Math.round(performance.now() - started)} ms [${index + 1}/${count}]`);
  }
  const dataset = {
    name: 'rt-liver phantom liver',
    description: 'Synthetic abdominal CT phantoms with liver labels, generated by rt-liver (scripts/generate-data.ts). Not patient data' +
      (shapes.length ? '; the liver shapes come from the labelled scans named in rtLiver.liverShapes (see their licence).' : '.'),
    reference: 'synthetic/phantom.ts',
    licence: 'MIT (generated)',
    release: '1.0',
    tensorImageSize: '3D',
    modality: { 0: 'CT' },
    labels: { 0: 'background', 1: 'liver' },
    numTraining: count,
    numTest: 0,
    training: Array.from({ length: count }, (_, index) => ({
      image: `./imagesTr/liver_${index}.nii.gz`,
      label: `./labelsTr/liver_${index}.nii.gz`,
    })),
    test: [],
    rtLiver: { generator: 'makeAbdomenPhantom', ...rule, cases: grids },
  };
  writeFileAtomic(join(root, 'dataset.json'), `${JSON.stringify(dataset, null, 2)}\n`);
  return { written, kept };
}

/** Written before the cases: the rule they were made by. */
const RULE_FILE = 'rt-liver-rule.json';

/**
 * True when the folder holds cases made by another phantom version or grid rule, or cases whose rule
 * is unknown (no rule file: an interrupted run from before the rule file existed).
 */
function isStale(root: string, rule: { phantomVersion: number; dimensions: Vec3; spacing: Vec3; fieldOfView: string; contrastPhase: string; liverShapes: string[] }): boolean {
  const path = join(root, RULE_FILE);
  if (!existsSync(path)) return existsSync(join(root, 'imagesTr')) || existsSync(join(root, 'labelsTr'));
  try {
    const made = JSON.parse(readFileSync(path, 'utf8'));
    const key = (r: typeof rule) => JSON.stringify([r.phantomVersion, r.dimensions, r.spacing, r.fieldOfView, r.contrastPhase, r.liverShapes]);
    return key(made) !== key(rule);
  } catch {
    return true;
  }
}
