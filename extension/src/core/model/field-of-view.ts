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
 *
 * The same holds across the slices: a wide reconstruction field (500-550 mm, as planning and PET-CT scanners
 * use) around a normal body gives the model coarser pixels than it was trained on (3D-IRCADb's 290-450 mm
 * fields): ircadb-17 padded with air to 500 mm lost 2 Dice points. So every pass first leaves out the air
 * around the body (`bodyBox`): the body's extent (voxels over -500 HU, thin things such as the table's shells
 * left out) plus 10 mm, never narrower than 350 mm, and only where that leaves out at least a fifth of the field.
 *
 * And the other way round: a series much shorter than the training fields (a slab that ends inside the liver)
 * is stretched head to feet on the model's grid, the liver taller than the model ever saw it. So a series under
 * 140 mm (the 10th percentile of the training fields head to feet, 142 mm, from the synthesis's own draws; set
 * before measuring) is given to the model with its first and last slices repeated up to 140 mm (`paddedBox`):
 * the anatomy goes on, as it does in the patient (air there would tell the model the body ends). What the model
 * marks in the repeated slices is dropped. The same across (air around a field under 350 mm) was tried and not
 * kept: -1.6 to +1.0 Dice points on six narrow fields of two patients, no consistent gain (robustness.md).
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

export const BODY_FIELD = {
  /** Voxels above this are body (or table): air and lung-free background lie far below. */
  thresholdHu: -500,
  /** Things thinner than this beside the body (the table's shells, cables) are not body (mm). */
  thinMm: 15,
  /** Kept around the body on each side (mm). */
  marginMm: 10,
  /** The narrowest in-plane field kept (mm): a child's or a thin patient's body is not blown up beyond the training scale. */
  minFieldMm: 350,
  /** A crop only when it leaves out at least this share of the field along an axis. */
  minShareLeftOut: 0.2,
} as const;

export const MODEL_FIELD = {
  /** The shortest head-feet field given to the model (mm). */
  minCranioCaudalMm: 140,
  /** At most this many times a series' own slices are added (a few slices are not made into hundreds). */
  maxAddedShare: 2,
} as const;

/** Index ranges [start, stop) along the volume's three index axes (a padded box reaches beyond the grid). */
export interface Box {
  start: Vec3;
  stop: Vec3;
}

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
  let start = Math.max(0, slices.first - beforeFirst);
  let stop = Math.min(n, slices.last + 1 + afterLast);
  // A first pass that found little liver still gives the second the shortest field the model is given, from real slices.
  const shortest = Math.min(n, Math.ceil(MODEL_FIELD.minCranioCaudalMm / mmPerSlice));
  if (stop - start < shortest) {
    start = Math.max(0, start - Math.ceil((shortest - (stop - start)) / 2));
    stop = Math.min(n, start + shortest);
    start = stop - shortest;
  }
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

/** The mask's area (mm²) in the series' head-most and feet-most slices. */
export function endSliceAreasMm2(mask: Volume<Uint8Array>): { head: number; feet: number } {
  const { axis, towardsFeet } = cranioCaudalAxis(mask);
  const dims = mask.dimensions;
  const strides: Vec3 = [1, dims[0], dims[0] * dims[1]];
  const [u, v] = ([0, 1, 2] as const).filter((a) => a !== axis);
  const area = (index: number) => {
    let count = 0;
    for (let b = 0; b < dims[v]; b++) {
      for (let a = 0; a < dims[u]; a++) count += mask.voxels[index * strides[axis] + a * strides[u] + b * strides[v]] ? 1 : 0;
    }
    return count * mask.spacing[u] * mask.spacing[v];
  };
  const [first, last] = [area(0), area(dims[axis] - 1)];
  // Index order runs towards the head unless the axis is flipped.
  return towardsFeet ? { head: first, feet: last } : { head: last, feet: first };
}

/** `box` moved by `by` index steps (a box found on a crop, put on the grid the crop was taken from). */
export function shiftBox(box: Box, by: Vec3): Box {
  return { start: box.start.map((v, a) => v + by[a]) as Vec3, stop: box.stop.map((v, a) => v + by[a]) as Vec3 };
}

/** The whole grid with `range` along its axis. */
export function sliceBox(dimensions: Vec3, range: SliceRange): Box {
  const box: Box = { start: [0, 0, 0], stop: [...dimensions] };
  box.start[range.axis] = range.start;
  box.stop[range.axis] = range.stop;
  return box;
}

/**
 * The in-plane box around the body (see the header), or null when the body fills the field or there is
 * none (a blank image). The head-feet axis is never cropped here.
 *
 * The body is what is over -500 HU on a projection along the head-feet axis (of at most 24 slices spread
 * over the series), opened with a square of 15 mm so that thin things beside it (the table's
 * shells, which span a wide field, cables, a sheet) do not count as body.
 */
export function bodyBox(volume: Volume): Box | null {
  const { axis: cranioCaudal } = cranioCaudalAxis(volume);
  const [u, v] = ([0, 1, 2] as const).filter((axis) => axis !== cranioCaudal);
  const dims = volume.dimensions;
  const strides: Vec3 = [1, dims[0], dims[0] * dims[1]];
  const [nu, nv, nc] = [dims[u], dims[v], dims[cranioCaudal]];
  const projection = new Uint8Array(nu * nv);
  const step = Math.max(1, Math.ceil(nc / 24));
  const voxels = volume.voxels;
  for (let c = 0; c < nc; c += step) {
    for (let b = 0; b < nv; b++) {
      const offset = c * strides[cranioCaudal] + b * strides[v];
      for (let a = 0; a < nu; a++) if (voxels[offset + a * strides[u]] > BODY_FIELD.thresholdHu) projection[b * nu + a] = 1;
    }
  }
  const half = (axis: number) => Math.floor(BODY_FIELD.thinMm / 2 / volume.spacing[axis]);
  const body = opening(projection, nu, nv, half(u), half(v));
  const extent = boundingBox(body, nu, nv);
  if (!extent) return null;

  const box: Box = { start: [0, 0, 0], stop: [...dims] };
  let cropped = false;
  for (const [axis, low, high] of [[u, extent.u[0], extent.u[1]], [v, extent.v[0], extent.v[1]]] as const) {
    const n = dims[axis];
    const spacing = volume.spacing[axis];
    const margin = Math.ceil(BODY_FIELD.marginMm / spacing);
    const minimum = Math.ceil(BODY_FIELD.minFieldMm / spacing);
    let start = Math.max(0, low - margin);
    let stop = Math.min(n, high + 1 + margin);
    if (stop - start < minimum) {
      // Centred on the body where the field allows it.
      start = Math.max(0, start - Math.ceil((minimum - (stop - start)) / 2));
      stop = Math.min(n, start + minimum);
      start = Math.max(0, stop - minimum);
    }
    if (stop - start > (1 - BODY_FIELD.minShareLeftOut) * n) continue;
    box.start[axis] = start;
    box.stop[axis] = stop;
    cropped = true;
  }
  return cropped ? box : null;
}

/** Binary opening (erosion, then dilation) with a (2 hu + 1) x (2 hv + 1) rectangle; outside the image counts as empty. */
function opening(image: Uint8Array, nu: number, nv: number, hu: number, hv: number): Uint8Array {
  const eroded = slide(slide(image, nu, nv, hu, 1, true), nu, nv, hv, nu, true);
  return slide(slide(eroded, nu, nv, hu, 1, false), nu, nv, hv, nu, false);
}

/**
 * One pass of a 1-D window of half-width `h` along the axis whose neighbours are `stride` apart: erosion keeps a
 * pixel when the whole window is set, dilation when any of it is (a running count, so the cost is one read per pixel).
 */
function slide(image: Uint8Array, nu: number, nv: number, h: number, stride: number, erode: boolean): Uint8Array {
  if (h === 0) return image;
  const out = new Uint8Array(image.length);
  const [length, lines, lineStride] = stride === 1 ? [nu, nv, nu] : [nv, nu, 1];
  for (let line = 0; line < lines; line++) {
    const base = line * lineStride;
    let count = 0;
    for (let x = 0; x < Math.min(h, length); x++) count += image[base + x * stride];
    for (let x = 0; x < length; x++) {
      if (x + h < length) count += image[base + (x + h) * stride];
      if (x - h - 1 >= 0) count -= image[base + (x - h - 1) * stride];
      out[base + x * stride] = erode ? (count === 2 * h + 1 ? 1 : 0) : count > 0 ? 1 : 0;
    }
  }
  return out;
}

function boundingBox(image: Uint8Array, nu: number, nv: number): { u: [number, number]; v: [number, number] } | null {
  let [u0, u1, v0, v1] = [Infinity, -1, Infinity, -1];
  for (let b = 0; b < nv; b++) {
    for (let a = 0; a < nu; a++) {
      if (!image[b * nu + a]) continue;
      if (a < u0) u0 = a;
      if (a > u1) u1 = a;
      if (b < v0) v0 = b;
      if (b > v1) v1 = b;
    }
  }
  return u1 < 0 ? null : { u: [u0, u1], v: [v0, v1] };
}

/**
 * `box` (the whole grid when null) with the head-feet axis grown evenly to the model's shortest field (see the
 * header and MODEL_FIELD); null when it needs no padding.
 */
export function paddedBox(volume: Volume, box: Box | null): Box | null {
  const { axis, mmPerSlice } = cranioCaudalAxis(volume);
  const padded: Box = box ? { start: [...box.start], stop: [...box.stop] } : { start: [0, 0, 0], stop: [...volume.dimensions] };
  const length = padded.stop[axis] - padded.start[axis];
  const wanted = Math.min(Math.ceil(MODEL_FIELD.minCranioCaudalMm / mmPerSlice), (1 + MODEL_FIELD.maxAddedShare) * length);
  if (!(wanted > length)) return null; // also when the spacing is 0 or not finite
  // A blank image stays as it is, so that the guard rails still see it blank.
  if (holdsOneValue(volume.voxels)) return null;
  const added = wanted - length;
  padded.start[axis] -= Math.floor(added / 2);
  padded.stop[axis] += added - Math.floor(added / 2);
  return padded;
}

/** Whether every voxel holds the same value (NaN counted as one value). Stops at the first that differs. */
function holdsOneValue(voxels: VoxelArray): boolean {
  const first = voxels[0];
  for (let n = 1; n < voxels.length; n++) if (voxels[n] !== first && !(Number.isNaN(voxels[n]) && Number.isNaN(first))) return false;
  return true;
}

/** Whether `box` reaches beyond the grid of `dimensions`. */
export function isPadded(box: Box, dimensions: Vec3): boolean {
  return [0, 1, 2].some((a) => box.start[a] < 0 || box.stop[a] > dimensions[a]);
}

/** `box` clipped to the grid of `dimensions`. */
function clipBox(box: Box, dimensions: Vec3): Box {
  return {
    start: box.start.map((v) => Math.max(0, v)) as Vec3,
    stop: box.stop.map((v, a) => Math.min(dimensions[a], v)) as Vec3,
  };
}

/** The head-feet length of a series the model was given padded, and of what it saw (mm). */
export interface PaddedField {
  seriesMm: number;
  seenMm: number;
}

export function paddedField(geometry: VolumeGeometry, box: Box): PaddedField {
  const { axis, mmPerSlice } = cranioCaudalAxis(geometry);
  return { seriesMm: geometry.dimensions[axis] * mmPerSlice, seenMm: (box.stop[axis] - box.start[axis]) * mmPerSlice };
}

/** The padding in words, for the CLI and the panel. */
export function describePaddedField(field: PaddedField): string {
  return `Short series (${Math.round(field.seriesMm)} mm head to feet): the model saw it with its end slices repeated to ${Math.round(field.seenMm)} mm.`;
}

/**
 * The voxels of `box` as a volume of their own (a copy), placed where they were in the patient. Where the box
 * reaches beyond the grid (a padded box), the nearest voxel of the series is repeated: the end slices, head to feet.
 */
export function cropBox<T extends VoxelArray>(volume: Volume<T>, box: Box): Volume<T> {
  const [nx, ny, nz] = volume.dimensions;
  const dims = [0, 1, 2].map((a) => box.stop[a] - box.start[a]) as Vec3;
  const [cx, cy, cz] = dims;
  const voxels = new (volume.voxels.constructor as new (length: number) => T)(cx * cy * cz);
  const clamp = (index: number, n: number) => Math.min(n - 1, Math.max(0, index));
  const rowInside = box.start[0] >= 0 && box.stop[0] <= nx;
  for (let k = 0; k < cz; k++) {
    const sk = clamp(k + box.start[2], nz);
    for (let j = 0; j < cy; j++) {
      const sj = clamp(j + box.start[1], ny);
      const to = (k * cy + j) * cx;
      const row = sj * nx + sk * nx * ny;
      if (rowInside) {
        voxels.set(volume.voxels.subarray(row + box.start[0], row + box.start[0] + cx) as never, to);
      } else {
        for (let i = 0; i < cx; i++) voxels[to + i] = volume.voxels[row + clamp(i + box.start[0], nx)];
      }
    }
  }
  return { voxels, dimensions: dims, spacing: [...volume.spacing], origin: indexToWorld(volume, box.start), direction: volume.direction };
}

/**
 * Clears the voxels of a mask on a padded box's grid that lie beyond the series (`dimensions`): what the model
 * marked in repeated slices is not in the patient's series. Returns the voxels left.
 */
export function clearBeyondGrid(part: Volume<Uint8Array>, box: Box, dimensions: Vec3): number {
  const [cx, cy, cz] = part.dimensions;
  const inside = clipBox(box, dimensions);
  const [i0, i1] = [inside.start[0] - box.start[0], inside.stop[0] - box.start[0]];
  let kept = 0;
  for (let k = 0; k < cz; k++) {
    const kInside = k + box.start[2] >= inside.start[2] && k + box.start[2] < inside.stop[2];
    for (let j = 0; j < cy; j++) {
      const row = (k * cy + j) * cx;
      if (!kInside || j + box.start[1] < inside.start[1] || j + box.start[1] >= inside.stop[1]) {
        part.voxels.fill(0, row, row + cx);
        continue;
      }
      part.voxels.fill(0, row, row + i0);
      part.voxels.fill(0, row + i1, row + cx);
      for (let i = row + i0; i < row + i1; i++) kept += part.voxels[i];
    }
  }
  return kept;
}

/** A mask computed on `cropBox(whole, box)` put back on the whole grid (zero elsewhere; what lies beyond the grid is dropped). */
export function placeBox(part: Volume<Uint8Array>, whole: VolumeGeometry, box: Box): Volume<Uint8Array> {
  const [nx, ny, nz] = whole.dimensions;
  const [cx, cy] = part.dimensions;
  const inside = clipBox(box, whole.dimensions);
  const voxels = new Uint8Array(nx * ny * nz);
  const width = inside.stop[0] - inside.start[0];
  for (let k = inside.start[2]; k < inside.stop[2]; k++) {
    for (let j = inside.start[1]; j < inside.stop[1]; j++) {
      const from = inside.start[0] - box.start[0] + (j - box.start[1]) * cx + (k - box.start[2]) * cx * cy;
      voxels.set(part.voxels.subarray(from, from + width), inside.start[0] + j * nx + k * nx * ny);
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
