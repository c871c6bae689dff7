/**
 * What OHIF made of a DICOM SEG, read from inside the page: its segmentations, the non-zero
 * voxels of their labelmaps per CT image (by SOPInstanceUID, so a mirrored, shifted or re-sorted
 * plane shows), and the overlay pixels the viewports drew.
 */
import type { Page } from 'playwright-core';

/** The non-zero pixels of one plane: how many, and the sum of their indices (row * columns + column). */
export interface PlaneStats {
  count: number;
  indexSum: number;
}

export function planeStats(values: ArrayLike<number>): PlaneStats {
  const stats = { count: 0, indexSum: 0 };
  for (let p = 0; p < values.length; p++) if (values[p] !== 0) { stats.count++; stats.indexSum += p; }
  return stats;
}

export interface OhifSegmentation {
  label: string;
  segmentLabels: string[];
  nonZeroVoxels: number;
  /** Each labelmap image's non-zero pixels, by the SOPInstanceUID of the CT image it lies on. */
  bySourceInstance: Record<string, PlaneStats>;
}

export async function ohifSegmentations(target: Page): Promise<OhifSegmentation[]> {
  return target.evaluate((planeStatsSource) => {
    const planeStatsOf = new Function(`return (${planeStatsSource})`)() as typeof planeStats;
    type LabelmapData = { imageIds?: string[]; volumeId?: string };
    type Segmentation = { label: string; segments: Record<string, { label: string } | undefined>; representationData: { Labelmap?: LabelmapData } };
    type Voxels = { referencedImageId?: string; voxelManager?: { getScalarData?: () => ArrayLike<number>; getCompleteScalarDataArray?: () => ArrayLike<number> }; getPixelData?: () => ArrayLike<number> };
    const win = window as unknown as {
      services: { segmentationService: { getSegmentations: () => Segmentation[] } };
      cornerstone: { cache: { getImage: (id: string) => Voxels | undefined; getVolume: (id: string) => Voxels | undefined } };
    };
    return win.services.segmentationService.getSegmentations().map((segmentation) => {
      const labelmap = segmentation.representationData.Labelmap ?? {};
      const imageIds = labelmap.imageIds ?? [];
      const bySourceInstance: Record<string, PlaneStats> = {};
      let nonZeroVoxels = 0;
      for (const id of imageIds) {
        const image = win.cornerstone.cache.getImage(id);
        const stats = planeStatsOf(image?.voxelManager?.getScalarData?.() ?? image?.getPixelData?.() ?? []);
        nonZeroVoxels += stats.count;
        // WADO-RS image ids of the CT: wadors:<root>/studies/<uid>/series/<uid>/instances/<sop>/frames/1
        const sop = /\/instances\/([0-9.]+)\/frames\//.exec(image?.referencedImageId ?? '')?.[1] ?? `unknown:${id}`;
        bySourceInstance[sop] = stats;
      }
      if (!imageIds.length && labelmap.volumeId) {
        const volume = win.cornerstone.cache.getVolume(labelmap.volumeId);
        nonZeroVoxels = planeStatsOf(volume?.voxelManager?.getCompleteScalarDataArray?.() ?? []).count;
      }
      return {
        label: segmentation.label,
        segmentLabels: Object.values(segmentation.segments).flatMap((segment) => (segment ? [segment.label] : [])),
        nonZeroVoxels,
        bySourceInstance,
      };
    });
  }, planeStats.toString());
}

/** Canvas pixels of each viewport drawn in a clearly reddish hue (the SEG's liver colour over grey CT), by viewport id. */
export async function overlayPixelsByViewport(target: Page): Promise<Record<string, number>> {
  return target.evaluate(() => {
    const cs = (window as unknown as { cornerstone: { getRenderingEngines: () => { getViewports: () => { id: string; canvas: HTMLCanvasElement }[] }[] } }).cornerstone;
    const counts: Record<string, number> = {};
    for (const viewport of cs.getRenderingEngines().flatMap((engine) => engine.getViewports())) {
      let count = 0;
      const context = viewport.canvas.getContext('2d', { willReadFrequently: true });
      if (context && viewport.canvas.width) {
        const { data } = context.getImageData(0, 0, viewport.canvas.width, viewport.canvas.height);
        for (let p = 0; p < data.length; p += 4) if (data[p] - data[p + 2] > 40) count++;
      }
      counts[viewport.id] = count;
    }
    return counts;
  });
}
