/**
 * The voxel grid a series of parallel images forms, from their headers alone: i along the rows, j down
 * the columns, k along the slice normal in ascending position. Used to read a SEG onto its source
 * series without decoding the CT pixels, and by tests. The grid rules (order, spacing tolerance, shear)
 * are the volume builder's (dicom/slice-geometry.ts), so a SEG lands on the grid the CT was read onto.
 */
import { gridOfPlanes, orientationFrame } from '../dicom/slice-geometry';
import type { VolumeGeometry } from '../volume';
import { checkOneSeries, readAllSourceImages, sourceImageKey, type SourceInput, type SegSourceImage } from './source-images';

/**
 * Slice spacing (mm) given to a grid of one image, which has no second plane to measure it from: a
 * SEG of a single image still needs a k step for its geometry; it has no effect on where pixels map.
 */
const SINGLE_IMAGE_SLICE_SPACING_MM = 1;

export function gridOfSourceInstances(buffers: SourceInput[]): VolumeGeometry & { instances: SegSourceImage[] } {
  const instances = readAllSourceImages(buffers);
  checkOneSeries(instances);
  if (instances.length === 1) {
    const [only] = instances;
    const frame = orientationFrame(only.orientation);
    return {
      dimensions: [only.columns, only.rows, 1],
      spacing: [only.pixelSpacing[1], only.pixelSpacing[0], SINGLE_IMAGE_SLICE_SPACING_MM],
      origin: only.position,
      direction: [frame.row, frame.column, frame.normal],
      instances,
    };
  }
  const labelled = instances.map((instance) => ({
    ...instance,
    label: `source image ${sourceImageKey(instance.sopInstanceUID, instance.frameNumber)}`,
  }));
  const { geometry, order } = gridOfPlanes(labelled);
  return { ...geometry, instances: order.map((index) => instances[index]) };
}
