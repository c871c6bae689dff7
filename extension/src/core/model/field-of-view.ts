/**
 * A second look at a long series: when a CT covers much more of the body than the liver (abdomen and
 * pelvis, chest-abdomen-pelvis, whole body), the first pass finds the liver, and the model runs again on
 * the slices around it.
 *
 * Why: the model sees every series squeezed to its fixed grid (64 slices), and it was trained on
 * liver-centred fields of view (3D-IRCADb's liver protocols, 180-260 mm, plus crops with 5-40 mm above
 * the dome and up to 120 mm below the tip, and chest slabs). A 390 mm abdomen-pelvis series gives it 6 mm
 * slices and a context it has rarely seen: on ircadb-17 stitched above another patient's pelvis, the
 * default model's mask took in the heart (Dice 0.874, +15 % volume; 0.920 with this second pass; see
 * training/results/robustness.md). Cutting the series down to the liver and a margin gives the model the
 * field it knows, at no cost in pixels: the in-plane field is untouched, only slices far from the liver
 * are left out, and the mask comes back on the whole series' grid.
 *
 * The margins (30 mm above the first pass's highest liver voxel, 60 mm below its lowest) sit in the
 * middle of the training crops' ranges and leave room for a first pass that missed part of the dome or
 * the tip. They were set before measuring, not tuned on the one labelled CT.
 */
import { indexToWorld, type Vec3, type Volume, type VolumeGeometry, type VoxelArray } from '../volume';
import { lpsReorientation } from './orientation';

export const FIELD_OF_VIEW = {
  /** Series up to this cranio-caudal length (mm) are segmented in one pass: the fields the model was trained on. */
  minExtentMm: 250,
  /** Kept above the first pass's highest and below its lowest liver voxel (mm). */
  aboveMm: 30,
  belowMm: 60,
  /** A second pass only when it leaves out at least this share of the series' length. */
  minShareLeftOut: 0.2,
} as const;

/** The slices [start, stop) of the series along its index axis `axis` that the second pass sees. */
export interface SliceRange {
  axis: 0 | 1 | 2;
  start: number;
  stop: number;
}

export interface NarrowedField extends SliceRange {
  /** Cranio-caudal length of the whole series and of the slices kept (mm). */
  seriesMm: number;
  keptMm: number;
}

/** The series' index axis closest to the patient's head-feet axis, and the mm of head-feet travel per slice. */
function cranioCaudalAxis(geometry: VolumeGeometry): { axis: 0 | 1 | 2; towardsFeet: boolean; mmPerSlice: number } {
  const { permutation, flipped } = lpsReorientation(geometry);
  const axis = permutation[2] as 0 | 1 | 2;
  // An oblique series moves less than one spacing along S per slice.
  const mmPerSlice = geometry.spacing[axis] * Math.abs(geometry.direction[axis][2]);
  return { axis, towardsFeet: flipped[2], mmPerSlice };
}

/** The series' head-feet length (mm): the distance from the centre of the first slice to the far edge of the last. */
export function cranioCaudalExtentMm(geometry: VolumeGeometry): number {
  const { axis, mmPerSlice } = cranioCaudalAxis(geometry);
  return geometry.dimensions[axis] * mmPerSlice;
}

/** Whether a series is long enough that a second, narrower pass could ever run: callers that free the CT early ask first. */
export function mayNarrowField(geometry: VolumeGeometry): boolean {
  return cranioCaudalExtentMm(geometry) > FIELD_OF_VIEW.minExtentMm;
}

/**
 * From the first pass's mask (on the series' grid): the slices from `belowMm` under the liver to
 * `aboveMm` over it, or null when the series is short, the mask empty, or the crop would leave out
 * too little to matter.
 */
export function narrowedField(mask: Volume<Uint8Array>): NarrowedField | null {
  if (!mayNarrowField(mask)) return null;
  const { axis, towardsFeet, mmPerSlice } = cranioCaudalAxis(mask);
  const slices = slicesWithVoxels(mask, axis);
  if (!slices) return null;
  const n = mask.dimensions[axis];
  const marginAbove = Math.ceil(FIELD_OF_VIEW.aboveMm / mmPerSlice);
  const marginBelow = Math.ceil(FIELD_OF_VIEW.belowMm / mmPerSlice);
  // Index order runs towards the head unless the axis is flipped.
  const [beforeFirst, afterLast] = towardsFeet ? [marginAbove, marginBelow] : [marginBelow, marginAbove];
  const start = Math.max(0, slices.first - beforeFirst);
  const stop = Math.min(n, slices.last + 1 + afterLast);
  if (stop - start > (1 - FIELD_OF_VIEW.minShareLeftOut) * n) return null;
  return { axis, start, stop, seriesMm: n * mmPerSlice, keptMm: (stop - start) * mmPerSlice };
}

/** First and last index along `axis` with a non-zero voxel, or null for an empty mask. */
function slicesWithVoxels(mask: Volume<Uint8Array>, axis: 0 | 1 | 2): { first: number; last: number } | null {
  const [nx, ny] = mask.dimensions;
  let first = Infinity;
  let last = -1;
  const voxels = mask.voxels;
  for (let n = 0; n < voxels.length; n++) {
    if (voxels[n] === 0) continue;
    const index = axis === 0 ? n % nx : axis === 1 ? Math.floor(n / nx) % ny : Math.floor(n / (nx * ny));
    if (index < first) first = index;
    if (index > last) last = index;
  }
  return last < 0 ? null : { first, last };
}

/** Sizes of the slab [start, stop) along `axis`, and the voxel offsets that walk it. */
function slab(dimensions: Vec3, range: SliceRange): { dims: Vec3; offset: (i: number, j: number, k: number) => number } {
  const dims = [...dimensions] as Vec3;
  dims[range.axis] = range.stop - range.start;
  const [nx, ny] = dimensions;
  const shift: Vec3 = [0, 0, 0];
  shift[range.axis] = range.start;
  return { dims, offset: (i, j, k) => i + shift[0] + (j + shift[1]) * nx + (k + shift[2]) * nx * ny };
}

/** The slices [start, stop) along `axis` as a volume of their own (a copy), placed where they were in the patient. */
export function cropSlices<T extends VoxelArray>(volume: Volume<T>, range: SliceRange): Volume<T> {
  const { dims, offset } = slab(volume.dimensions, range);
  const [cx, cy, cz] = dims;
  const voxels = new (volume.voxels.constructor as new (length: number) => T)(cx * cy * cz);
  for (let k = 0; k < cz; k++) {
    for (let j = 0; j < cy; j++) {
      const from = offset(0, j, k);
      voxels.set(volume.voxels.subarray(from, from + cx) as never, (k * cy + j) * cx);
    }
  }
  const first: Vec3 = [0, 0, 0];
  first[range.axis] = range.start;
  return { voxels, dimensions: dims, spacing: [...volume.spacing], origin: indexToWorld(volume, first), direction: volume.direction };
}

/** A mask computed on `cropSlices(whole, range)` put back on the whole series' grid (zero elsewhere). */
export function placeSlices(part: Volume<Uint8Array>, whole: VolumeGeometry, range: SliceRange): Volume<Uint8Array> {
  const { dims, offset } = slab(whole.dimensions, range);
  const [cx, cy, cz] = dims;
  const [nx, ny, nz] = whole.dimensions;
  const voxels = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < cz; k++) {
    for (let j = 0; j < cy; j++) {
      const from = (k * cy + j) * cx;
      voxels.set(part.voxels.subarray(from, from + cx), offset(0, j, k));
    }
  }
  return {
    voxels,
    dimensions: [...whole.dimensions],
    spacing: [...whole.spacing],
    origin: [...whole.origin],
    direction: [[...whole.direction[0]], [...whole.direction[1]], [...whole.direction[2]]],
  };
}
