/**
 * NIfTI affines and the Volume's LPS geometry.
 *
 * NIfTI world space is RAS (+x Right, +y Anterior, +z Superior); DICOM and our Volume use LPS
 * (+x Left, +y Posterior, +z Superior): the same point has its x and y negated. So the LPS affine is the RAS affine with its
 * first two rows negated, in both directions.
 *
 * A NIfTI file can hold two transforms: the sform (a general 3x4 affine) and the qform (a rotation
 * as a quaternion, voxel sizes and an offset). The reader prefers the sform, then the qform, then
 * voxel sizes alone, as nibabel and ITK do.
 */
import { RtLiverError } from '../errors';
import type { Vec3, VolumeGeometry } from '../volume';
import type { NiftiHeader } from './header';

const { abs, hypot, sqrt } = Math;

/** 3x4 affine, row-major: world = M[:, 0:3] * index + M[:, 3]. */
export type Affine = [number[], number[], number[]];

export type TransformSource = 'sform' | 'qform' | 'pixdim';

/**
 * The RAS affine a NIfTI header describes, and which of its transforms it came from. The qform and
 * the bare voxel sizes take their spacing from pixdim[1..3], which must then be positive and finite
 * along every axis with more than one voxel: nifti1_io's habit of reading 0 as 1 mm gives a liver of
 * 184 mL instead of 5 L, without a word. (A single-voxel axis has no spacing to get wrong: 0 is 1 there.)
 */
export function headerAffine(header: NiftiHeader, dimensions?: Vec3): { affine: Affine; source: TransformSource } {
  if (header.sformCode > 0) return { affine: header.srow.map((row) => row.slice()) as Affine, source: 'sform' };
  const source: TransformSource = header.qformCode > 0 ? 'qform' : 'pixdim';
  checkVoxelSizes(header, source, dimensions);
  if (source === 'qform') return { affine: quaternionAffine(header), source };
  const [dx, dy, dz] = [1, 2, 3].map((i) => header.pixdim[i] || 1);
  return { affine: [[dx, 0, 0, 0], [0, dy, 0, 0], [0, 0, dz, 0]], source };
}

function checkVoxelSizes(header: NiftiHeader, source: TransformSource, dimensions: Vec3 | undefined): void {
  const sizes = [1, 2, 3].map((i) => header.pixdim[i]);
  const bad = sizes.findIndex((size, axis) => (dimensions === undefined || dimensions[axis] > 1) && !(Number.isFinite(size) && size > 0));
  if (bad < 0) return;
  throw new RtLiverError(
    'NIFTI_BAD_VOXEL_SIZE',
    `The NIfTI voxel sizes (pixdim) are ${sizes.join(' x ')} mm, which its ${source === 'qform' ? 'qform' : 'header (no sform or qform)'} uses as the spacing: ` +
      `${'ijk'[bad]} has ${sizes[bad]} mm, and a voxel size must be a positive number.`,
    'Fix the header (e.g. nibabel: img.header.set_zooms(...)) or convert the image again from its DICOM series.',
  );
}

/** The qform as an affine (nifti_quatern_to_mat44 of nifti1_io.c). */
export function quaternionAffine(header: NiftiHeader): Affine {
  let [b, c, d] = header.quatern;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // A 180-degree rotation: renormalize (b, c, d) and take a = 0.
    const norm = 1 / sqrt(b * b + c * c + d * d);
    b *= norm;
    c *= norm;
    d *= norm;
    a = 0;
  } else {
    a = sqrt(a);
  }
  const qfac = header.pixdim[0] < 0 ? -1 : 1;
  const [dx, dy, dz] = [1, 2, 3].map((i) => (header.pixdim[i] > 0 ? header.pixdim[i] : 1)); // checked by headerAffine for axes that matter
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  return [0, 1, 2].map((row) => [r[row][0] * dx, r[row][1] * dy, r[row][2] * dz * qfac, header.qoffset[row]]) as Affine;
}

/** RAS <-> LPS: negate the first two rows. The same operation both ways. */
export function flipRasLps(affine: Affine): Affine {
  const negate = (v: number) => (v === 0 ? 0 : -v); // no -0 in geometry
  return [affine[0].map(negate), affine[1].map(negate), affine[2].slice()];
}

/** An LPS affine to Volume geometry; refuses singular or non-finite affines. */
export function affineToGeometry(lps: Affine, dimensions: Vec3, source: TransformSource): VolumeGeometry {
  const values = lps.flat();
  if (!values.every(Number.isFinite)) {
    throw new RtLiverError('NIFTI_BAD_AFFINE', `The NIfTI ${source} holds non-finite numbers (${values.join(', ')}).`,
      'Repair the file\'s affine (for example with nibabel: img.set_sform(affine)) or export it again.');
  }
  const spacing = [0, 1, 2].map((axis) => hypot(lps[0][axis], lps[1][axis], lps[2][axis])) as Vec3;
  const m = lps.map((row) => row.slice(0, 3));
  const det =
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  if (spacing.some((s) => s === 0) || abs(det) < 1e-6 * spacing[0] * spacing[1] * spacing[2]) {
    throw new RtLiverError('NIFTI_SINGULAR_AFFINE', `The NIfTI ${source} is singular (a zero voxel size or parallel axes, determinant ${det}).`,
      'The image has no usable geometry: fix its affine or voxel sizes, or export it again from the original DICOM.');
  }
  const direction = [0, 1, 2].map((axis) => [0, 1, 2].map((row) => lps[row][axis] / spacing[axis])) as [Vec3, Vec3, Vec3];
  return { dimensions, spacing, origin: [lps[0][3], lps[1][3], lps[2][3]], direction };
}

/** Volume geometry to its LPS affine. */
export function geometryToAffine(geometry: VolumeGeometry): Affine {
  return [0, 1, 2].map((row) => [
    geometry.direction[0][row] * geometry.spacing[0],
    geometry.direction[1][row] * geometry.spacing[1],
    geometry.direction[2][row] * geometry.spacing[2],
    geometry.origin[row],
  ]) as Affine;
}

/**
 * The qform fields for an affine (nifti_mat44_to_quatern): a rotation, voxel sizes and qfac.
 * Returns undefined when the axes are not orthogonal (a sheared grid has no qform; the sform
 * alone carries it).
 */
export function affineToQuaternion(ras: Affine): { quatern: [number, number, number]; qoffset: [number, number, number]; pixdim: Vec3; qfac: number } | undefined {
  const pixdim = [0, 1, 2].map((axis) => hypot(ras[0][axis], ras[1][axis], ras[2][axis])) as Vec3;
  const r = [0, 1, 2].map((row) => [0, 1, 2].map((axis) => ras[row][axis] / pixdim[axis]));
  for (let p = 0; p < 3; p++) {
    for (let q = p + 1; q < 3; q++) {
      const dot = r[0][p] * r[0][q] + r[1][p] * r[1][q] + r[2][p] * r[2][q];
      if (abs(dot) > 1e-5) return undefined;
    }
  }
  const det =
    r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) -
    r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0]) +
    r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
  let qfac = 1;
  if (det < 0) {
    qfac = -1;
    for (let row = 0; row < 3; row++) r[row][2] = -r[row][2];
  }
  const [r11, r12, r13] = r[0];
  const [r21, r22, r23] = r[1];
  const [r31, r32, r33] = r[2];
  let a = r11 + r22 + r33 + 1;
  let b: number;
  let c: number;
  let d: number;
  if (a > 0.5) {
    a = 0.5 * sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { quatern: [b, c, d], qoffset: [ras[0][3], ras[1][3], ras[2][3]], pixdim, qfac };
}
