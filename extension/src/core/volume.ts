/**
 * A 3-D image on a regular grid in DICOM patient space (LPS, millimetres).
 *
 * Memory layout: voxel (i, j, k) is at `i + j * nx + k * nx * ny`, i.e. i (columns) varies fastest.
 * For an axial DICOM series i runs along a row (ImageOrientationPatient[0..2]), j down a column
 * (ImageOrientationPatient[3..5]) and k along the sorted slices. The same buffer read as a tensor
 * [1, 1, nz, ny, nx] is what the model sees (D = k, H = j, W = i).
 *
 * `direction[a]` is the unit vector, in LPS, of index axis a. `origin` is the centre of voxel (0,0,0).
 */
export type Vec3 = [number, number, number];

export type VoxelArray = Int16Array | Uint16Array | Int32Array | Float32Array | Uint8Array;

export interface VolumeGeometry {
  /** [nx, ny, nz]: columns, rows, slices. */
  dimensions: Vec3;
  /** Voxel size in mm along i, j, k. */
  spacing: Vec3;
  /** LPS position (mm) of the centre of voxel (0, 0, 0). */
  origin: Vec3;
  /** Unit vectors (LPS) of the i, j and k index axes. */
  direction: [Vec3, Vec3, Vec3];
}

export interface Volume<T extends VoxelArray = VoxelArray> extends VolumeGeometry {
  voxels: T;
}

/** The geometry alone, copied: holds no reference to the voxels. */
export function geometryOf(volume: VolumeGeometry): VolumeGeometry {
  const { dimensions, spacing, origin, direction } = volume;
  return {
    dimensions: [...dimensions],
    spacing: [...spacing],
    origin: [...origin],
    direction: [[...direction[0]], [...direction[1]], [...direction[2]]],
  };
}

export function voxelCount(geometry: VolumeGeometry): number {
  const [nx, ny, nz] = geometry.dimensions;
  return nx * ny * nz;
}

/** Continuous index (i, j, k) to LPS world position in mm. */
export function indexToWorld(geometry: VolumeGeometry, index: Vec3): Vec3 {
  const { origin, spacing, direction } = geometry;
  const world: Vec3 = [origin[0], origin[1], origin[2]];
  for (let axis = 0; axis < 3; axis++) {
    const step = index[axis] * spacing[axis];
    world[0] += direction[axis][0] * step;
    world[1] += direction[axis][1] * step;
    world[2] += direction[axis][2] * step;
  }
  return world;
}

/**
 * LPS world position to continuous index. Uses the inverse of the 3x3 matrix whose columns are
 * direction[a] * spacing[a], so it is exact for oblique and non-orthogonal (sheared) grids too.
 */
export function worldToIndex(geometry: VolumeGeometry, world: Vec3): Vec3 {
  const m = indexToWorldMatrix(geometry);
  const inv = invert3x3(m);
  const d: Vec3 = [
    world[0] - geometry.origin[0],
    world[1] - geometry.origin[1],
    world[2] - geometry.origin[2],
  ];
  return [
    inv[0][0] * d[0] + inv[0][1] * d[1] + inv[0][2] * d[2],
    inv[1][0] * d[0] + inv[1][1] * d[1] + inv[1][2] * d[2],
    inv[2][0] * d[0] + inv[2][1] * d[1] + inv[2][2] * d[2],
  ];
}

/** 3x3 matrix M (row-major, M[row][col]) with world = origin + M * index. */
export function indexToWorldMatrix(geometry: VolumeGeometry): number[][] {
  const { spacing, direction } = geometry;
  return [0, 1, 2].map((row) => [0, 1, 2].map((axis) => direction[axis][row] * spacing[axis]));
}

export function invert3x3(m: number[][]): number[][] {
  const [a, b, c] = m[0];
  const [d, e, f] = m[1];
  const [g, h, i] = m[2];
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) {
    throw new Error('Singular index-to-world matrix: the grid has zero spacing or parallel axes.');
  }
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

/** Volume of one voxel in mL (mm^3 / 1000), honouring sheared grids via the determinant. */
export function voxelVolumeMl(geometry: VolumeGeometry): number {
  const m = indexToWorldMatrix(geometry);
  const det =
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  return Math.abs(det) / MM3_PER_ML;
}

/** 1 mL is 1 cm^3, 1000 mm^3. */
const MM3_PER_ML = 1000;
