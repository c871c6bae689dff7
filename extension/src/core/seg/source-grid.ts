/**
 * The voxel grid a series of parallel single-frame images forms, from their headers alone: i along the
 * rows, j down the columns, k along the slice normal in ascending position. Used to read a SEG onto
 * its source series without decoding the CT pixels, and by tests.
 */
import { RtLiverError } from '../errors';
import type { Vec3, VolumeGeometry } from '../volume';
import { checkOneSeries, readAllSourceImages, type SourceInput, type SourceInstance } from './source-instances';

export function gridOfSourceInstances(buffers: SourceInput[]): VolumeGeometry & { instances: SourceInstance[] } {
  const instances = readAllSourceImages(buffers);
  checkOneSeries(instances);
  const [rx, ry, rz, cx, cy, cz] = instances[0].orientation;
  const normal: Vec3 = [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx];
  const along = (instance: SourceInstance) =>
    normal[0] * instance.position[0] + normal[1] * instance.position[1] + normal[2] * instance.position[2];
  const sorted = [...instances].sort((a, b) => along(a) - along(b));
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  let sliceSpacing = 1;
  let sliceDirection: Vec3 = normal;
  if (sorted.length > 1) {
    // The k axis goes from the first to the last position: handles gantry tilt (sheared grids).
    const span: Vec3 = [0, 1, 2].map((axis) => last.position[axis] - first.position[axis]) as Vec3;
    const length = Math.hypot(...span);
    sliceSpacing = length / (sorted.length - 1);
    sliceDirection = span.map((value) => value / length) as Vec3;
    const gaps = sorted.slice(1).map((instance, index) => along(instance) - along(sorted[index]));
    if (gaps.some((gap) => Math.abs(gap - gaps[0]) > 0.01 * Math.abs(gaps[0]) + 1e-3)) {
      throw new RtLiverError(
        'seg-source-irregular',
        `The source images are not evenly spaced (gaps from ${Math.min(...gaps).toFixed(3)} to ${Math.max(...gaps).toFixed(3)} mm).`,
        'A SEG can only be read onto a regular grid; pass a series with constant slice spacing.',
      );
    }
  }
  return {
    dimensions: [first.columns, first.rows, sorted.length],
    spacing: [first.pixelSpacing[1], first.pixelSpacing[0], sliceSpacing],
    origin: first.position,
    direction: [[rx, ry, rz], [cx, cy, cz], sliceDirection],
    instances: sorted,
  };
}
