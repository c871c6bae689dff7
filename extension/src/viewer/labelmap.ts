/**
 * The liver mask as a Cornerstone3D labelmap segmentation "Liver", made and read through OHIF's
 * segmentationService, so it shows in every viewport of the CT and in OHIF's segmentation list, and
 * the host's brush and eraser edit it. One labelmap image per CT image: slice k of the mask goes to
 * the labelmap image whose referenced image is the volume's image k (never by list position).
 */
import { RtLiverError } from '../core/errors';
import { voxelVolumeMl, type Volume, type VolumeGeometry } from '../core/volume';
import type { HostCornerstone, HostImage } from '../host';
import { nextTask, taskPacer } from './ct-volume';

// OHIF's services are untyped JavaScript.
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const LIVER_SEGMENT_INDEX = 1;
export const LIVER_SEGMENTATION_LABEL = 'Liver';
const LABELMAP = 'Labelmap';
/**
 * Budget of a piece of the labelmap's main-thread work (taskPacer's default is 8 ms): on a shared
 * 2-core machine other processes stretch a piece, and 8 ms pieces came out as 50-95 ms tasks.
 */
const PIECE_MS = 4;

export interface LabelmapTarget {
  cs: HostCornerstone;
  segmentationService: Loose;
  /** The CT's display set (what the labelmap is derived from). */
  displaySet: Loose;
  /** The CT volume's images, in slice order (slice k = imageIds[k]). */
  imageIds: string[];
  geometry: VolumeGeometry;
  /** Viewports that show the CT: the labelmap is added to each. */
  viewportIds: string[];
  /** RGB, 0-255. */
  color: [number, number, number];
}

/** The labelmap images of a segmentation, each with the slice index of the CT image it lies on. */
export function labelmapSlices(cs: HostCornerstone, segmentationId: string, imageIds: string[]): { k: number; image: HostImage }[] {
  const state = (cs.tools.segmentation as Loose).state;
  const segmentation = state?.getSegmentation?.(segmentationId);
  const labelmapIds: string[] | undefined = segmentation?.representationData?.[LABELMAP]?.imageIds;
  if (!labelmapIds?.length) {
    throw new RtLiverError('LABELMAP_MISSING', `Segmentation ${segmentationId} has no labelmap images.`, 'Segment again.');
  }
  const sliceOf = new Map(imageIds.map((imageId, k) => [imageId, k]));
  const slices: { k: number; image: HostImage }[] = [];
  for (const id of labelmapIds) {
    const image = cs.core.cache.getImage(id);
    const k = image?.referencedImageId === undefined ? undefined : sliceOf.get(image.referencedImageId);
    if (image && k !== undefined) slices.push({ k, image });
  }
  if (slices.length !== imageIds.length) {
    throw new RtLiverError(
      'LABELMAP_MISMATCH',
      `The labelmap has ${slices.length} images on the CT's ${imageIds.length} slices.`,
      'Segment again; if it persists, reload the study.',
    );
  }
  return slices;
}

/** The labelmap images of a segmentation not yet handed to the host: one empty image per CT image. */
export interface PreparedLabelmap {
  segmentationId: string;
  /** In the display set's order (what the host lists as the segmentation's images). */
  imageIds: string[];
  /** The labelmap image on slice k of the volume. */
  bySlice: HostImage[];
  /** Removes the images from Cornerstone's cache (a run that was cancelled or failed). */
  discard: () => void;
}

/**
 * One empty labelmap image per CT image, a few per task: what segmentationService.createLabelmapForDisplaySet
 * does, but it creates them all in one block (about 130 ms for 96 images here), which would block the page.
 */
export async function prepareLiverLabelmap(target: Pick<LabelmapTarget, 'cs' | 'displaySet' | 'imageIds'>, cancelled: () => boolean = () => false): Promise<PreparedLabelmap> {
  const { cs, displaySet, imageIds: volumeImageIds } = target;
  const segmentationId = `rt-liver-${Date.now().toString(36)}`;
  const referencedImageIds: string[] = displaySet.imageIds;
  const sliceOf = new Map(volumeImageIds.map((imageId, k) => [imageId, k]));
  const imageIds: string[] = [];
  const bySlice: HostImage[] = new Array(volumeImageIds.length);
  const discard = () => {
    for (const imageId of imageIds) cs.core.cache.removeImageLoadObject?.(imageId);
  };
  await nextTask();
  const pace = taskPacer('labelmap-images', PIECE_MS);
  try {
    for (let n = 0; n < referencedImageIds.length; n++) {
      await pace();
      if (cancelled()) throw new RtLiverError('CANCELLED', 'The segmentation was cancelled.');
      const referencedImageId = referencedImageIds[n];
      const k = sliceOf.get(referencedImageId);
      if (k === undefined) {
        throw new RtLiverError('LABELMAP_MISMATCH', `CT image ${n + 1} of the series is not a slice of the volume on screen.`, 'Reload the study.');
      }
      // As the host names derived images ("derived:" scheme), with the instance number it gives them.
      const image = cs.core.imageLoader.createAndCacheDerivedLabelmapImage(referencedImageId, { imageId: `derived:${segmentationId}-${n + 1}`, instanceNumber: n + 1 });
      imageIds.push(image.imageId);
      bySlice[k] = image;
    }
    pace.done();
  } catch (error) {
    discard();
    throw error;
  }
  return { segmentationId, imageIds, bySlice, discard };
}

/**
 * Writes the mask into the prepared labelmap images, creates the segmentation "Liver" from them,
 * adds it to every CT viewport in the liver's colour, and tells Cornerstone (and OHIF's list) that
 * its data changed. Returns its id.
 *
 * The calls into the host all run in one task: each of them asks for a render, and the rendering
 * engine draws once per animation frame, so one task gives one render of the three views with the
 * labelmap in it. Split into tasks, a frame fell between them and the views were drawn twice (with
 * a software renderer 300-800 ms each).
 */
export async function showLiverLabelmap(
  target: LabelmapTarget,
  prepared: PreparedLabelmap,
  mask: Volume<Uint8Array>,
  cancelled: () => boolean = () => false,
): Promise<string> {
  const { cs, segmentationService, displaySet, viewportIds, color } = target;
  const { segmentationId, imageIds: labelmapImageIds } = prepared;
  const referencedImageIds: string[] = displaySet.imageIds;
  await fillLabelmapImages(prepared, mask, cancelled);
  try {
    // Timed as a performance measure "rt-liver:host:<step>", so that a long task can be told apart
    // from rt-liver's own code.
    await hostStep('show', async () => {
      segmentationService.addOrUpdateSegmentation({
        segmentationId,
        representation: { type: LABELMAP, data: { imageIds: labelmapImageIds, referencedImageIds } },
        config: {
          label: LIVER_SEGMENTATION_LABEL,
          segments: { [LIVER_SEGMENT_INDEX]: { label: LIVER_SEGMENTATION_LABEL, active: true } },
          cachedStats: { info: `S${displaySet.SeriesNumber}: ${displaySet.SeriesDescription}` },
        },
      });
      // No await between these: an await would let a frame (a render) in.
      const added: unknown[] = [];
      for (const viewportId of viewportIds) {
        // The mode may already have mirrored it into this view (it keeps a segmentation in all three).
        const shown = segmentationService.getSegmentationRepresentations?.(viewportId, { segmentationId }) ?? [];
        if (!shown.length) added.push(segmentationService.addSegmentationRepresentation(viewportId, { segmentationId, type: LABELMAP }));
      }
      await Promise.all(added);
      for (const viewportId of viewportIds) segmentationService.setSegmentColor(viewportId, segmentationId, LIVER_SEGMENT_INDEX, [...color, 255]);
      cs.tools.segmentation.triggerSegmentationEvents?.triggerSegmentationDataModified(segmentationId);
    });
  } catch (error) {
    segmentationService.remove(segmentationId);
    throw error;
  }
  return segmentationId;
}

/** Runs one call into the host in a task of its own, recorded as the measure "rt-liver:host:<name>". */
async function hostStep(name: string, step: () => unknown): Promise<void> {
  await nextTask();
  const start = performance.now();
  try {
    await step();
  } finally {
    performance.measure(`rt-liver:host:${name}`, { start, end: performance.now() });
  }
}

/** Each slice of the mask into its labelmap image. */
async function fillLabelmapImages(prepared: PreparedLabelmap, mask: Volume<Uint8Array>, cancelled: () => boolean): Promise<void> {
  const [nx, ny, nz] = mask.dimensions;
  const sliceSize = nx * ny;
  if (prepared.bySlice.length !== nz) {
    throw new RtLiverError('LABELMAP_MISMATCH', `The mask has ${nz} slices, the labelmap ${prepared.bySlice.length}.`, 'Segment again.');
  }
  await nextTask();
  const pace = taskPacer('labelmap-fill', PIECE_MS);
  for (let k = 0; k < nz; k++) {
    await pace();
    if (cancelled()) throw new RtLiverError('CANCELLED', 'The segmentation was cancelled.');
    // Every slice, empty ones too: copying 256 KB is cheaper than looking for a liver voxel in it.
    const source = mask.voxels.subarray(k * sliceSize, (k + 1) * sliceSize);
    const image = prepared.bySlice[k];
    const data = image.voxelManager.getScalarData() as unknown as { set: (values: ArrayLike<number>) => void; length: number };
    if (data.length !== sliceSize) {
      throw new RtLiverError('LABELMAP_MISMATCH', `Labelmap image ${k + 1} has ${data.length} pixels, the CT slice ${sliceSize}.`, 'Reload the study.');
    }
    data.set(source);
    image.voxelManager.setScalarData(data as unknown as ArrayLike<number>);
  }
  pace.done();
}

/** The labelmap read back as a mask on the CT's grid (liver = 1), a few slices per task. */
export async function readLabelmap(cs: HostCornerstone, segmentationId: string, imageIds: string[], geometry: VolumeGeometry): Promise<Volume<Uint8Array>> {
  const [nx, ny, nz] = geometry.dimensions;
  const sliceSize = nx * ny;
  const voxels = new Uint8Array(sliceSize * nz);
  const slices = labelmapSlices(cs, segmentationId, imageIds);
  const pace = taskPacer('read-labelmap');
  for (let n = 0; n < slices.length; n++) {
    await pace();
    const { k, image } = slices[n];
    const data = image.voxelManager.getScalarData();
    const offset = k * sliceSize;
    for (let p = 0; p < sliceSize; p++) if (data[p] === LIVER_SEGMENT_INDEX) voxels[offset + p] = 1;
  }
  pace.done();
  return { ...geometry, voxels };
}

/** Liver voxels and volume (mL) of the labelmap as it is now, edits included. */
export async function measureLabelmap(cs: HostCornerstone, segmentationId: string, imageIds: string[], geometry: VolumeGeometry): Promise<{ voxels: number; volumeMl: number }> {
  const slices = labelmapSlices(cs, segmentationId, imageIds);
  let count = 0;
  const pace = taskPacer('measure-labelmap');
  for (let n = 0; n < slices.length; n++) {
    await pace();
    const data = slices[n].image.voxelManager.getScalarData();
    for (let p = 0; p < data.length; p++) if (data[p] === LIVER_SEGMENT_INDEX) count++;
  }
  pace.done();
  return { voxels: count, volumeMl: count * voxelVolumeMl(geometry) };
}

/**
 * Resolves once each viewport has rendered again (Cornerstone's IMAGE_RENDERED), or after
 * `timeoutMs`: the moment the labelmap is on screen.
 */
export function waitForRender(cs: HostCornerstone, viewportElements: HTMLElement[], timeoutMs = 3000): Promise<void> {
  const event = cs.core.Enums.Events.IMAGE_RENDERED;
  return new Promise((resolve) => {
    let remaining = viewportElements.length;
    if (!remaining || !event) return resolve();
    const timer = setTimeout(finish, timeoutMs);
    const listeners = viewportElements.map((element) => {
      const listener = () => {
        element.removeEventListener(event, listener);
        if (--remaining === 0) finish();
      };
      element.addEventListener(event, listener);
      return { element, listener };
    });
    function finish() {
      clearTimeout(timer);
      for (const { element, listener } of listeners) element.removeEventListener(event, listener);
      resolve();
    }
  });
}
