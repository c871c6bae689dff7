/**
 * Decides whether the open study can be segmented, and says why not. Pure: it sees plain series
 * summaries (from OHIF display sets or from a QIDO series search), so it is unit-tested directly.
 */
export interface SeriesSummary {
  seriesInstanceUid: string;
  modality: string;
  description?: string;
  numberOfImages: number;
  /** OHIF's verdict that the images form a regular 3-D grid (false for a single image). */
  isReconstructable?: boolean;
}

export type Readiness =
  | { ready: true; series: SeriesSummary; message: string }
  | { ready: false; series?: SeriesSummary; reason: string };

/** A volume needs this many slices for the model (3 pooling levels) to see anything 3-D. */
export const MIN_SLICES = 8;

export function assessReadiness(series: SeriesSummary[]): Readiness {
  if (!series.length) {
    return { ready: false, reason: 'No series are loaded for this study yet.' };
  }
  const ct = series.filter((s) => s.modality === 'CT');
  if (!ct.length) {
    const modalities = [...new Set(series.map((s) => s.modality || 'unknown'))].sort().join(', ');
    return {
      ready: false,
      reason: `Segmentation is not available: this study has no CT series (it has ${modalities}). Real-time Liver segments abdominal CT only.`,
    };
  }
  // The CT series with the most images is the one a user means (scouts and dose reports are small).
  const best = [...ct].sort((a, b) => b.numberOfImages - a.numberOfImages)[0];
  if (best.numberOfImages < 2) {
    return {
      ready: false,
      series: best,
      reason: `Segmentation is not available: the CT series${best.description ? ` "${best.description}"` : ''} has only ${best.numberOfImages} image; a 3-D volume needs at least ${MIN_SLICES} slices.`,
    };
  }
  if (best.numberOfImages < MIN_SLICES) {
    return {
      ready: false,
      series: best,
      reason: `Segmentation is not available: the CT series has only ${best.numberOfImages} images; a 3-D volume needs at least ${MIN_SLICES} slices.`,
    };
  }
  if (best.isReconstructable === false) {
    return {
      ready: false,
      series: best,
      reason: 'Segmentation is not available: the CT images do not form a regular volume (uneven spacing, tilt or mixed orientations).',
    };
  }
  return { ready: true, series: best, message: `Ready: CT series with ${best.numberOfImages} images.` };
}
