export { readNifti, readNiftiDetailed, isGzip, type NiftiReadResult } from './read-nifti';
export { writeNifti, type NiftiWriteOptions } from './write-nifti';
export { type NiftiHeader, parseNiftiHeader, NIFTI_TYPE, NIFTI_INTENT_LABEL } from './header';
export { type Affine, type TransformSource, geometryToAffine, flipRasLps } from './affine';
