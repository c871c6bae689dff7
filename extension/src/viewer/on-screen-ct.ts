/**
 * Which CT volume is on screen: the Cornerstone3D volume of the MPR viewports, its OHIF display set,
 * the viewports that show it, and whether it has loaded. Read from the host's rendering engines, so
 * it is what the user sees, not a guess from the study.
 */
import type { HostCornerstone, HostViewport, HostVolume } from '../host';

// OHIF services are untyped JavaScript.
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface OnScreenCt {
  volume: HostVolume;
  displaySet: Loose;
  viewports: HostViewport[];
}

export type CtVolumeStatus =
  | { state: 'none'; reason: string }
  | { state: 'loading'; reason: string; ct: OnScreenCt }
  | { state: 'loaded'; ct: OnScreenCt };

/** OHIF names a series' volume "<loader scheme>:<displaySetInstanceUID>". */
export function displaySetUidOfVolume(volumeId: string): string | undefined {
  const colon = volumeId.indexOf(':');
  return colon >= 0 ? volumeId.slice(colon + 1) : undefined;
}

export function findOnScreenCt(cs: HostCornerstone, displaySetService: Loose, preferredSeriesUid?: string): CtVolumeStatus {
  const byVolume = new Map<string, HostViewport[]>();
  for (const engine of cs.core.getRenderingEngines()) {
    for (const viewport of engine.getViewports()) {
      const volumeId = viewport.getVolumeId?.();
      if (volumeId) byVolume.set(volumeId, [...(byVolume.get(volumeId) ?? []), viewport]);
    }
  }
  const candidates: OnScreenCt[] = [];
  for (const [volumeId, viewports] of byVolume) {
    const volume = cs.core.cache.getVolume(volumeId) as HostVolume | undefined;
    const uid = displaySetUidOfVolume(volumeId);
    const displaySet = uid ? displaySetService?.getDisplaySetByUID?.(uid) : undefined;
    if (volume && displaySet && displaySet.Modality === 'CT') candidates.push({ volume, displaySet, viewports });
  }
  if (!candidates.length) {
    return byVolume.size
      ? { state: 'none', reason: 'The series on screen is not a CT volume.' }
      : { state: 'none', reason: 'The CT is not shown as a volume yet (the three views are still being set up).' };
  }
  const ct = candidates.find((c) => c.displaySet.SeriesInstanceUID === preferredSeriesUid) ?? candidates[0];
  const total = ct.volume.imageIds.length;
  if (ct.volume.loadStatus?.loaded !== true) {
    const loaded = Math.min(total, ct.volume.framesLoaded ?? 0);
    return { state: 'loading', ct, reason: `The series is still loading (${loaded} of ${total} images); segmentation starts once it has loaded.` };
  }
  return { state: 'loaded', ct };
}
