/**
 * Generated inputs for SEG tests: a small CT series (written by the project's synthetic CT writer) and
 * a liver-like mask on its grid, in the geometries that break naive writers: odd matrices (bits not
 * byte-aligned per frame), shuffled or reversed file order, feet-first, oblique.
 */
import { Random } from '../../../synthetic/random';
import { writeCtSeries } from '../../../synthetic/ct-series-writer';
import type { Vec3, Volume } from '../../../extension/src/core/volume';

export type FileOrder = 'ascending' | 'shuffled' | 'reversed';

export interface SegCaseOptions {
  name: string;
  dimensions: Vec3;
  spacing?: Vec3;
  origin?: Vec3;
  direction?: [Vec3, Vec3, Vec3];
  order?: FileOrder;
  patientPosition?: string;
}

export interface SegCase {
  name: string;
  /** The CT files in the order a caller would pass them. */
  files: ArrayBuffer[];
  mask: Volume<Uint8Array>;
  /** Planes (k) with at least one mask voxel. */
  nonEmptyPlanes: number;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  frameOfReferenceUID: string;
}

export const AXIAL: [Vec3, Vec3, Vec3] = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];
/** Feet-first supine as stored: k runs towards the feet. */
export const FEET_FIRST: [Vec3, Vec3, Vec3] = [
  [-1, 0, 0],
  [0, 1, 0],
  [0, 0, -1],
];

/** Axial rotated 20 degrees about L-R then 15 about A-P: no axis is aligned with the patient. */
export function obliqueDirections(): [Vec3, Vec3, Vec3] {
  const a = (20 * Math.PI) / 180;
  const b = (15 * Math.PI) / 180;
  const rotate = (v: Vec3): Vec3 => {
    const x1 = v[0];
    const y1 = v[1] * Math.cos(a) - v[2] * Math.sin(a);
    const z1 = v[1] * Math.sin(a) + v[2] * Math.cos(a);
    return [x1 * Math.cos(b) + z1 * Math.sin(b), y1, -x1 * Math.sin(b) + z1 * Math.cos(b)];
  };
  return [rotate([1, 0, 0]), rotate([0, 1, 0]), rotate([0, 0, 1])];
}

export function makeSegCase(options: SegCaseOptions): SegCase {
  const dimensions = options.dimensions;
  const [nx, ny, nz] = dimensions;
  const geometry = {
    dimensions,
    spacing: options.spacing ?? ([0.8, 0.9, 2.5] as Vec3),
    origin: options.origin ?? ([-100.25, -80.5, 30] as Vec3),
    direction: options.direction ?? AXIAL,
  };
  const mask = patternedEllipsoid(geometry);
  const ct = new Int16Array(nx * ny * nz);
  for (let index = 0; index < ct.length; index++) ct[index] = mask[index] ? 60 : -1000;
  const series = writeCtSeries({ ...geometry, voxels: ct }, { seed: options.name, patientPosition: options.patientPosition });
  let files = series.files.map((file) => file.bytes);
  if (options.order === 'reversed') files = files.reverse();
  if (options.order === 'shuffled') files = new Random(`${options.name}|order`).shuffled(files);
  return {
    name: options.name,
    files,
    mask: { ...geometry, voxels: mask },
    nonEmptyPlanes: countNonEmptyPlanes(mask, dimensions),
    studyInstanceUID: series.studyInstanceUID,
    seriesInstanceUID: series.seriesInstanceUID,
    frameOfReferenceUID: series.frameOfReferenceUID,
  };
}

/**
 * A liver-like test mask on any grid: an ellipsoid leaving the first and last planes empty, with a
 * sparse pattern inside so that a bit shifted by one position, or a frame moved by one plane, changes
 * the result.
 */
export function patternedEllipsoid(geometry: { dimensions: Vec3 }): Uint8Array {
  const [nx, ny, nz] = geometry.dimensions;
  const mask = new Uint8Array(nx * ny * nz);
  for (let k = 1; k < nz - 1; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const r = Math.hypot((i - nx * 0.45) / (nx * 0.35), (j - ny * 0.55) / (ny * 0.35), (k - (nz - 1) / 2) / Math.max(0.5, (nz - 2) / 2));
        if (r < 1 && (i * 7 + j * 3 + k) % 5 !== 0) mask[i + j * nx + k * nx * ny] = 1;
      }
    }
  }
  return mask;
}

export function countNonEmptyPlanes(mask: Uint8Array, dimensions: Vec3): number {
  const plane = dimensions[0] * dimensions[1];
  let count = 0;
  for (let k = 0; k < dimensions[2]; k++) if (mask.subarray(k * plane, (k + 1) * plane).some((v) => v !== 0)) count++;
  return count;
}

/** The cases every SEG check runs over. */
export const GENERATED_CASES: SegCaseOptions[] = [
  { name: 'odd-23x38-shuffled', dimensions: [23, 38, 7], order: 'shuffled' },
  { name: 'odd-23x38-reversed', dimensions: [23, 38, 7], order: 'reversed' },
  { name: 'feet-first-31x17', dimensions: [31, 17, 9], direction: FEET_FIRST, patientPosition: 'FFS', order: 'shuffled' },
  { name: 'oblique-29x33', dimensions: [29, 33, 6], direction: obliqueDirections(), order: 'shuffled' },
  { name: 'even-64x64', dimensions: [64, 64, 5] },
];

export const TEST_ALGORITHM = { name: 'student-30k', version: '0.1.0' };
export const TEST_DEVICE = {
  manufacturer: 'rt-liver project',
  modelName: 'rt-liver',
  softwareVersions: '0.1.0',
  serialNumber: 'test',
};
