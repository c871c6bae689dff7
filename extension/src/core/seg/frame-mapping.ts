/**
 * Where each pixel of a source image lies in a volume's voxel buffer, found from positions alone.
 *
 * A frame pixel (row r, column c) of an image at ImagePositionPatient p lies at
 * p + c * columnSpacing * rowDirection + r * rowSpacing * columnDirection (PS3.3 C.7.6.2.1.1). Mapped
 * through the volume's world-to-index transform this must land exactly on voxel centres, so the frame
 * becomes `voxel = base + c * columnStride + r * rowStride` in the volume's linear memory. That holds
 * whatever order the images came in and whatever axis order or flips the volume uses (feet-first,
 * canonical LPS, ...), and it never resamples: a volume whose voxels are not the images' pixels is
 * refused.
 */
import type { ImagePlane } from '../dicom/slice-geometry';
import { RtLiverError } from '../errors';
import { worldToIndex, type Vec3, type VolumeGeometry } from '../volume';
import { sourceImageKey, type SegSourceImage } from './source-images';

/** How far (in voxels) a pixel centre may sit from a voxel centre: allows decimal rounding in headers. */
export const POSITION_TOLERANCE_VOXELS = 0.05;

export interface PlaneSampling {
  /** Linear voxel index of the frame's first pixel (row 0, column 0). */
  base: number;
  /** Voxel index step for one column (along the row) and for one row (down the column). */
  columnStride: number;
  rowStride: number;
  /** The volume axis the frame is orthogonal to (2 for axial frames of an axial volume). */
  planeAxis: number;
  /** Index of the frame's plane along that axis. */
  planeIndex: number;
}

export interface FrameSampling extends PlaneSampling {
  instance: SegSourceImage;
}

/**
 * Where one frame's pixels lie in the volume, or an RtLiverError naming `frameName` when they do not
 * fall exactly on voxel centres inside the volume (and, for 'whole-plane', fill one volume plane).
 */
export function samplePlane(
  plane: ImagePlane,
  grid: VolumeGeometry,
  frameName: string,
  coverage: 'whole-plane' | 'inside' = 'whole-plane',
): PlaneSampling {
  const [nx, ny, nz] = grid.dimensions;
  const linearStrides: Vec3 = [1, nx, nx * ny];
  const { rows, columns, position, orientation, pixelSpacing } = plane;
  const rowDirection: Vec3 = [orientation[0], orientation[1], orientation[2]];
  const columnDirection: Vec3 = [orientation[3], orientation[4], orientation[5]];
  const pixelToWorld = (r: number, c: number): Vec3 => [
    position[0] + c * pixelSpacing[1] * rowDirection[0] + r * pixelSpacing[0] * columnDirection[0],
    position[1] + c * pixelSpacing[1] * rowDirection[1] + r * pixelSpacing[0] * columnDirection[1],
    position[2] + c * pixelSpacing[1] * rowDirection[2] + r * pixelSpacing[0] * columnDirection[2],
  ];
  const origin = worldToIndex(grid, position);
  const alongRow = subtract(worldToIndex(grid, pixelToWorld(0, 1)), origin);
  const alongColumn = subtract(worldToIndex(grid, pixelToWorld(1, 0)), origin);
  const columnStep = unitAxisStep(alongRow);
  const rowStep = unitAxisStep(alongColumn);
  if (!columnStep || !rowStep || columnStep.axis === rowStep.axis) {
    throw mismatch(
      frameName,
      'its rows and columns do not run along the volume axes with the volume spacing',
      `one column step is ${format(alongRow)} voxels, one row step ${format(alongColumn)}`,
    );
  }
  const planeAxis = 3 - columnStep.axis - rowStep.axis;
  // The first pixel must sit on a voxel centre, and so must the far corner (catches a spacing that
  // is slightly off, which one step alone would hide).
  const start = roundedIndex(origin);
  const farCorner = worldToIndex(grid, pixelToWorld(rows - 1, columns - 1));
  const expectedFar = start.map(
    (value, axis) =>
      value + (axis === columnStep.axis ? columnStep.sign * (columns - 1) : 0) + (axis === rowStep.axis ? rowStep.sign * (rows - 1) : 0),
  ) as Vec3;
  if (!start.every((value, axis) => Math.abs(value - origin[axis]) <= POSITION_TOLERANCE_VOXELS)) {
    throw mismatch(frameName, 'its first pixel falls between voxel centres', `at continuous index ${format(origin)}`);
  }
  if (!expectedFar.every((value, axis) => Math.abs(value - farCorner[axis]) <= POSITION_TOLERANCE_VOXELS)) {
    throw mismatch(frameName, 'its pixel spacing differs from the volume spacing', `its last pixel is at index ${format(farCorner)}, expected ${format(expectedFar)}`);
  }
  if (![start, expectedFar].every((corner) => corner.every((value, axis) => value >= 0 && value < grid.dimensions[axis]))) {
    throw mismatch(frameName, 'it lies outside the volume', `it spans index ${format(start)} to ${format(expectedFar)} in a ${nx}x${ny}x${nz} volume`);
  }
  // A source image must cover a whole volume plane: the volume is exactly the series, no crop, no
  // padding. (A SEG frame may be a crop, as long as it lies inside.)
  if (coverage === 'whole-plane' && (columns !== grid.dimensions[columnStep.axis] || rows !== grid.dimensions[rowStep.axis])) {
    throw mismatch(frameName, 'its matrix differs from the volume plane', `${columns}x${rows} against ${grid.dimensions[columnStep.axis]}x${grid.dimensions[rowStep.axis]}`);
  }
  return {
    base: start[0] * linearStrides[0] + start[1] * linearStrides[1] + start[2] * linearStrides[2],
    columnStride: columnStep.sign * linearStrides[columnStep.axis],
    rowStride: rowStep.sign * linearStrides[rowStep.axis],
    planeAxis,
    planeIndex: start[planeAxis],
  };
}

/**
 * One sampling per source image, refusing a grid that does not match: orientation, spacing, extent or
 * a position that falls between voxels, and a volume plane left without (or with two) images.
 */
export function mapFramesToVolume(instances: SegSourceImage[], grid: VolumeGeometry): FrameSampling[] {
  const planeOwner = new Map<number, SegSourceImage>();
  let samplingAxis: number | undefined;
  const samplings = instances.map((instance): FrameSampling => {
    const name = `source image ${sourceImageKey(instance.sopInstanceUID, instance.frameNumber)}`;
    const sampling = samplePlane(instance, grid, name);
    if (sampling.planeAxis !== (samplingAxis ??= sampling.planeAxis)) {
      throw mismatch(name, 'it is not parallel to the other images', `its plane is orthogonal to volume axis ${sampling.planeAxis}`);
    }
    const previous = planeOwner.get(sampling.planeIndex);
    if (previous) {
      throw mismatch(
        name,
        `it lies on the same plane as ${sourceImageKey(previous.sopInstanceUID, previous.frameNumber)}`,
        `plane ${sampling.planeIndex}`,
      );
    }
    planeOwner.set(sampling.planeIndex, instance);
    return { ...sampling, instance };
  });
  const planeCount = grid.dimensions[samplings[0]?.planeAxis ?? 2];
  if (planeOwner.size !== planeCount) {
    const missing = Array.from({ length: planeCount }, (_, index) => index).filter((index) => !planeOwner.has(index));
    throw new RtLiverError(
      'SEG_GRID_MISMATCH',
      `The mask has ${planeCount} planes but only ${planeOwner.size} source images lie on them (none on plane(s) ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}).`,
      "Pass every CT image of the series the mask was computed on, and the mask on that series' own grid (not resampled).",
    );
  }
  return samplings;
}

/** A step that is +-1 voxel along one axis and 0 along the others, or undefined. */
function unitAxisStep(step: Vec3): { axis: number; sign: 1 | -1 } | undefined {
  const tolerance = 1e-3;
  let found: { axis: number; sign: 1 | -1 } | undefined;
  for (let axis = 0; axis < 3; axis++) {
    if (Math.abs(Math.abs(step[axis]) - 1) <= tolerance) {
      if (found) return undefined;
      found = { axis, sign: step[axis] > 0 ? 1 : -1 };
    } else if (Math.abs(step[axis]) > tolerance) {
      return undefined;
    }
  }
  return found;
}

function roundedIndex(index: Vec3): Vec3 {
  return [Math.round(index[0]), Math.round(index[1]), Math.round(index[2])];
}

function subtract(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

function format(vector: Vec3): string {
  return `(${vector.map((value) => Number(value.toFixed(3))).join(', ')})`;
}

function mismatch(frameName: string, problem: string, detail: string): RtLiverError {
  return new RtLiverError(
    'SEG_GRID_MISMATCH',
    `The grid does not match ${frameName}: ${problem} (${detail}).`,
    'Use the grid of the CT series the segmentation belongs to; SEG frames are placed exactly, never resampled.',
  );
}
