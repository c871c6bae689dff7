/**
 * rt-liver eval <pred> <ref>: Dice, HD95 and volume difference between two liver masks. Each input is
 * a NIfTI mask/labelmap or a DICOM SEG; a SEG has no grid of its own here, so it is read onto the grid
 * of the other input (or of --grid, the CT series, when both are SEG). Comparison is on the
 * reference grid, by world position.
 */
import { readFileSync } from 'node:fs';
import { RtLiverError } from '../../../extension/src/core/errors';
import { binarize, compareMasks, type MaskAgreement } from '../../../extension/src/core/model/evaluate';
import { inputLimits, type InputLimits } from '../../../extension/src/core/limits';
import { readSeg } from '../../../extension/src/core/seg';
import type { Volume, VolumeGeometry } from '../../../extension/src/core/volume';
import { isNiftiPath, loadInput } from '../io';

export interface EvalOptions {
  refLabel?: number;
  predLabel?: number;
  grid?: string;
  json?: boolean;
  maxFrames?: number;
  maxVoxels?: number;
  maxDecompressedMb?: number;
}

export interface EvalReport extends MaskAgreement {
  pred: string;
  ref: string;
  ref_label: number | null;
  pred_label: number | null;
}

async function readNiftiMask(path: string, label: number | undefined, limits: InputLimits): Promise<Volume<Uint8Array>> {
  const loaded = await loadInput(path, { limits });
  return binarize(loaded.volume, label);
}

async function readSegMask(path: string, grid: VolumeGeometry, label: number | undefined): Promise<Volume<Uint8Array>> {
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch (error) {
    const directory = (error as NodeJS.ErrnoException).code === 'EISDIR';
    throw new RtLiverError(
      'EVAL_INPUT',
      directory ? `${path} is a folder; eval compares masks.` : `Cannot read ${path}: ${(error as Error).message}.`,
      'Pass a NIfTI mask or labelmap (.nii/.nii.gz) or a DICOM SEG file (a CT folder goes to --grid).',
    );
  }
  const bytes = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
  const result = await readSeg(bytes, grid, label === undefined ? {} : { segmentNumber: label });
  return result.mask;
}

async function gridFromCt(path: string | undefined, limits: InputLimits): Promise<VolumeGeometry> {
  if (!path) {
    throw new RtLiverError(
      'EVAL_NEEDS_GRID',
      'Both inputs are DICOM SEG: there is no grid to read them onto.',
      'Pass --grid <folder of the CT series they segment>.',
    );
  }
  return (await loadInput(path, { limits })).volume;
}

export async function evalCommand(predPath: string, refPath: string, options: EvalOptions): Promise<EvalReport> {
  const predIsNifti = isNiftiPath(predPath);
  const refIsNifti = isNiftiPath(refPath);
  let pred: Volume<Uint8Array> | undefined;
  let ref: Volume<Uint8Array> | undefined;
  const limits = inputLimits({
    maxFrames: options.maxFrames,
    maxVoxels: options.maxVoxels,
    maxDecompressedBytes: options.maxDecompressedMb === undefined ? undefined : Math.round(options.maxDecompressedMb * 1024 ** 2),
  });
  if (refIsNifti) ref = await readNiftiMask(refPath, options.refLabel, limits);
  if (predIsNifti) pred = await readNiftiMask(predPath, options.predLabel, limits);
  if (!pred || !ref) {
    const grid = ref ?? pred ?? (await gridFromCt(options.grid, limits));
    // For a SEG, --*-label is the segment number.
    if (!ref) ref = await readSegMask(refPath, grid, options.refLabel);
    if (!pred) pred = await readSegMask(predPath, grid, options.predLabel);
  }
  const agreement = compareMasks(pred, ref);
  const report: EvalReport = {
    pred: predPath,
    ref: refPath,
    ref_label: options.refLabel ?? null,
    pred_label: options.predLabel ?? null,
    ...agreement,
  };
  if (agreement.voxels_ref === 0) {
    process.stderr.write(`warning: the reference ${refPath} has no liver voxels${options.refLabel === undefined ? '' : ` with label ${options.refLabel}`}.\n`);
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const percent = report.volume_difference_percent === null ? 'n/a' : `${report.volume_difference_percent.toFixed(1)} %`;
    process.stdout.write(
      [
        `Dice: ${report.dice.toFixed(4)}`,
        `HD95: ${report.hd95_mm === null ? 'n/a (a mask is empty)' : `${report.hd95_mm.toFixed(2)} mm`}`,
        `Volume: prediction ${report.volume_pred_ml.toFixed(1)} mL, reference ${report.volume_ref_ml.toFixed(1)} mL, difference ${report.volume_difference_ml.toFixed(1)} mL (${percent})`,
      ].join('\n') + '\n',
    );
  }
  return report;
}
