/**
 * CT volume -> model input tensor, exactly as models/README.md specifies (the training package does
 * the same in Python; test/fixtures/preprocessing proves they agree):
 *   1. canonical LPS index order (permute/flip, no interpolation),
 *   2. trilinear half-pixel resize of the HU values to the model's [D, H, W],
 *   3. x = (clamp(HU, huMin, huMax) - center) / halfWidth.
 * The result keeps what post-processing needs to map predictions back onto the input's grid.
 */
import type { Vec3, Volume, VolumeGeometry } from '../volume';
import type { ModelInputSpec } from './manifest';
import { canonicalView, lpsReorientation, reorientGeometry, type Reorientation } from './orientation';
import { resampleTrilinear } from './resample';
import { summarizeInput, type InputSummary } from './guard-rails';

export interface PreprocessedInput {
  /** float32 [1, 1, D, H, W], i fastest. */
  tensor: Float32Array;
  shape: [1, 1, number, number, number];
  /** How the input was reoriented: post-processing undoes it. */
  reorientation: Reorientation;
  /** The input grid seen in canonical order (same voxels and world positions). */
  canonicalGeometry: VolumeGeometry;
  /** The resampled HU values summarized for the guard rails (blank input, lung map); see guard-rails.ts. */
  summary: InputSummary;
}

/**
 * Window and scale in place: [huMin, huMax] -> [-1, 1]. NaN (float NIfTI files use it for "no data")
 * counts as below the window, like air, so one bad voxel cannot turn the model's output into NaN.
 */
export function applyHuWindow(values: Float32Array, huWindow: [number, number]): void {
  const [huMin, huMax] = huWindow;
  const center = (huMin + huMax) / 2;
  const halfWidth = (huMax - huMin) / 2;
  for (let n = 0; n < values.length; n++) {
    const hu = values[n];
    const clamped = hu > huMax ? huMax : hu >= huMin ? hu : huMin;
    values[n] = (clamped - center) / halfWidth;
  }
}

export function preprocess(volume: Volume, input: Pick<ModelInputSpec, 'shape' | 'huWindow'>): PreprocessedInput {
  const reorientation = lpsReorientation(volume);
  const view = canonicalView(volume.voxels, volume, reorientation);
  const [, , depth, height, width] = input.shape;
  const outDims: Vec3 = [width, height, depth];
  const tensor = resampleTrilinear(view, outDims);
  const canonicalGeometry = reorientGeometry(volume, reorientation);
  const voxelMm = [0, 1, 2].map((axis) => (canonicalGeometry.spacing[axis] * canonicalGeometry.dimensions[axis]) / outDims[axis]) as Vec3;
  const summary = summarizeInput(tensor, outDims, voxelMm);
  applyHuWindow(tensor, input.huWindow);
  return {
    tensor,
    shape: [1, 1, depth, height, width],
    reorientation,
    canonicalGeometry,
    summary,
  };
}
