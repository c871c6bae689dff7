/**
 * The CT on screen as the core's Volume, taken from the volume Cornerstone3D has already loaded for
 * the MPR viewports: no second download. Its voxels are HU already (the image loader pre-scales:
 * slope and intercept must not be applied again), slice k of the volume is image `imageIds[k]`, and
 * its geometry (origin, direction, spacing, dimensions) maps one to one onto the core's.
 */
import { RtLiverError } from '../core/errors';
import { indexToWorld, type Vec3, type Volume, type VolumeGeometry, type VoxelArray } from '../core/volume';
import type { HostCornerstone, HostVolume } from '../host';

/**
 * The largest CT the viewer segments: 512 x 512 x 1200 voxels. Beyond it the copies a run needs (the
 * CT handed to the worker, 2 bytes a voxel; the mask and the labelmap, 1 byte each) would pass about
 * 1.2 GB on top of what the viewer already holds, more than a browser tab can count on.
 */
export const MAX_SEGMENT_VOXELS = 512 * 512 * 1200;


/** The core's geometry of a Cornerstone3D volume, checked: unit, orthogonal directions and positive spacing. */
export function geometryOfHostVolume(volume: Pick<HostVolume, 'dimensions' | 'spacing' | 'origin' | 'direction'>): VolumeGeometry {
  const d = Array.from(volume.direction);
  if (d.length !== 9 || d.some((value) => !Number.isFinite(value))) {
    throw new RtLiverError('VOLUME_INVALID', 'The viewer volume has no valid direction matrix.', 'Reload the study; if it persists, the series geometry is broken.');
  }
  const direction: [Vec3, Vec3, Vec3] = [
    [d[0], d[1], d[2]],
    [d[3], d[4], d[5]],
    [d[6], d[7], d[8]],
  ];
  for (const axis of direction) {
    const norm = Math.hypot(...axis);
    if (Math.abs(norm - 1) > 1e-3) {
      throw new RtLiverError('VOLUME_INVALID', `The viewer volume's direction ${axis.join(', ')} is not a unit vector.`, 'Reload the study.');
    }
  }
  const spacing = [...volume.spacing] as Vec3;
  if (spacing.some((s) => !(s > 0))) {
    throw new RtLiverError('VOLUME_INVALID', `The viewer volume has spacing ${spacing.join(' x ')} mm.`, 'The series has zero or missing slice spacing; it cannot be segmented.');
  }
  return { dimensions: [...volume.dimensions] as Vec3, spacing, origin: [...volume.origin] as Vec3, direction };
}

/** Refuses a volume larger than the viewer can segment, naming the limit. */
export function checkVolumeSize(dimensions: readonly number[]): void {
  const voxels = dimensions[0] * dimensions[1] * dimensions[2];
  if (voxels > MAX_SEGMENT_VOXELS) {
    throw new RtLiverError(
      'VOLUME_TOO_LARGE',
      `This CT has ${dimensions.join(' x ')} = ${(voxels / 1e6).toFixed(0)} M voxels; the viewer segments at most 512 x 512 x 1200 (${(MAX_SEGMENT_VOXELS / 1e6).toFixed(0)} M voxels) within a browser tab's memory.`,
      'Segment it with the command line instead: npx rt-liver segment <dicom-folder> --out liver-seg.dcm.',
    );
  }
}

/** The slice positions of the images a volume was built from, as Cornerstone's metadata gives them. */
type PlaneOf = (imageId: string) => { imagePositionPatient?: number[] } | undefined;

/**
 * Checks that image k lies where the geometry puts slice k (first, middle and last image), so a
 * mask written slice by slice lands on the right image. Throws when it does not.
 */
export function checkSlicePositions(geometry: VolumeGeometry, imageIds: string[], planeOf: PlaneOf): void {
  const [nx, ny, nz] = geometry.dimensions;
  if (imageIds.length !== nz) {
    throw new RtLiverError('VOLUME_INVALID', `The viewer volume has ${nz} slices but ${imageIds.length} images.`, 'Reload the study.');
  }
  for (const k of new Set([0, Math.floor(nz / 2), nz - 1])) {
    const position = planeOf(imageIds[k])?.imagePositionPatient;
    if (!position) continue;
    const expected = indexToWorld(geometry, [0, 0, k]);
    const distance = Math.hypot(position[0] - expected[0], position[1] - expected[1], position[2] - expected[2]);
    // A tenth of the smallest voxel side: far below any real misplacement, above rounding.
    if (distance > 0.1 * Math.min(...geometry.spacing)) {
      throw new RtLiverError(
        'VOLUME_INVALID',
        `Image ${k + 1} of ${nz} lies ${distance.toFixed(2)} mm from where the volume places slice ${k + 1} (of ${nx} x ${ny} x ${nz}).`,
        'The series is not a regular volume (uneven or missing slices); it cannot be segmented as one.',
      );
    }
  }
}

/** Yields to the event loop so that input and rendering run between chunks of work. */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Splits a loop into tasks of about `budgetMs`: call `await pace()` between items; it yields once the
 * current task has run for the budget, well below the 50 ms at which a task blocks the page. Each
 * piece is recorded as the performance measure "rt-liver:own:<label>", so that a long task can be
 * checked against rt-liver's own work; call `pace.done()` after the loop to record the last piece.
 */
export function taskPacer(label: string, budgetMs = 8): (() => Promise<void>) & { done: () => void } {
  let started = performance.now();
  const record = () => performance.measure(`rt-liver:own:${label}`, { start: started, end: performance.now() });
  const pace = async () => {
    if (performance.now() - started < budgetMs) return;
    record();
    await nextTask();
    started = performance.now();
  };
  return Object.assign(pace, { done: record });
}

/** A typed array of the same kind as `like`, of `length` elements. */
function sameKind(like: ArrayLike<number>, length: number): VoxelArray {
  if (like instanceof Int16Array) return new Int16Array(length);
  if (like instanceof Uint16Array) return new Uint16Array(length);
  if (like instanceof Int32Array) return new Int32Array(length);
  if (like instanceof Uint8Array) return new Uint8Array(length);
  return new Float32Array(length);
}

export interface CopyOptions {
  /** Stops the copy (throws CANCELLED) when it returns true between chunks. */
  cancelled?: () => boolean;
}

/**
 * The CT as a core Volume with its own voxel buffer (to hand over to the worker), copied image by
 * image from Cornerstone's cache in chunks of a few slices per task, so the page never blocks.
 */
export async function copyHostVolume(cs: HostCornerstone, volume: HostVolume, options: CopyOptions = {}): Promise<Volume> {
  const geometry = geometryOfHostVolume(volume);
  checkVolumeSize(geometry.dimensions);
  checkSlicePositions(geometry, volume.imageIds, (imageId) => cs.core.metaData.get('imagePlaneModule', imageId) as ReturnType<PlaneOf>);
  const [nx, ny, nz] = geometry.dimensions;
  const sliceSize = nx * ny;
  let voxels: VoxelArray | undefined;
  const pace = taskPacer('copy-ct');
  for (let k = 0; k < nz; k++) {
    await pace();
    if (options.cancelled?.()) throw new RtLiverError('CANCELLED', 'The segmentation was cancelled.');
    const image = cs.core.cache.getImage(volume.imageIds[k]);
    const pixels = image?.getPixelData();
    if (!pixels || pixels.length !== sliceSize) {
      throw new RtLiverError(
        'VOLUME_NOT_LOADED',
        `Slice ${k + 1} of ${nz} is not in the viewer's memory${pixels ? ` (it has ${pixels.length} pixels, not ${sliceSize})` : ''}.`,
        'Wait until the series has loaded completely, then segment again.',
      );
    }
    voxels ??= sameKind(pixels, sliceSize * nz);
    voxels.set(pixels as ArrayLike<number>, k * sliceSize);
  }
  pace.done();
  return { ...geometry, voxels: voxels! };
}
