/**
 * Size limits on an input image, checked from its header before any voxel is allocated, so that a
 * damaged or hostile file (NumberOfFrames 3,000,000; Rows and Columns 65535; a 1 MB .nii.gz that
 * unpacks to gigabytes) is refused in milliseconds instead of taking the machine's memory.
 *
 * The defaults admit every CT a liver segmentation sees, with room: a whole-body 512 x 512 CT of 2048
 * thin slices is 537 M voxels (1 GB as int16). A caller may raise them (the CLI's --max-frames,
 * --max-voxels and --max-decompressed-mb): the error names the limit, so the message can say how.
 */
import { RtLiverError } from './errors';

export interface InputLimits {
  /** Frames of one multi-frame instance, and slices of one series. */
  maxFrames: number;
  /** Voxels of the volume (columns x rows x slices). */
  maxVoxels: number;
  /** Bytes of image data read from a NIfTI file, after decompression. */
  maxDecompressedBytes: number;
}

export const DEFAULT_INPUT_LIMITS: Readonly<InputLimits> = Object.freeze({
  maxFrames: 10_000,
  maxVoxels: 512 * 512 * 2048,
  maxDecompressedBytes: 2 * 1024 ** 3,
});

export function inputLimits(overrides: Partial<InputLimits> = {}): InputLimits {
  const limits = { ...DEFAULT_INPUT_LIMITS };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof InputLimits, number | undefined]>) {
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}

/** An input over one of the limits; callers that word their own advice use `message` with their own hint. */
export class InputLimitError extends RtLiverError {
  readonly limit: keyof InputLimits;
  readonly allowed: number;
  readonly actual: number;

  constructor(limit: keyof InputLimits, actual: number, allowed: number, detail: string) {
    super('INPUT_TOO_LARGE', detail, 'A CT is far smaller: the file is probably damaged, or not a CT image.');
    this.name = 'InputLimitError';
    this.limit = limit;
    this.allowed = allowed;
    this.actual = actual;
  }
}

const UNIT: Record<keyof InputLimits, string> = { maxFrames: 'frames', maxVoxels: 'voxels', maxDecompressedBytes: 'bytes' };

/** Throws an InputLimitError when `actual` exceeds the limit; `what` names the thing measured. */
export function checkLimit(limits: InputLimits, limit: keyof InputLimits, actual: number, what: string): void {
  const allowed = limits[limit];
  if (!(actual <= allowed)) {
    throw new InputLimitError(limit, actual, allowed, `${what}: ${formatCount(actual)} ${UNIT[limit]}, over the limit of ${formatCount(allowed)}.`);
  }
}

export function formatCount(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : String(value);
}

/**
 * Allocates a typed array of `count` elements, or explains why it cannot (a limit raised beyond what
 * this runtime or machine can hold), instead of a RangeError's stack.
 */
export function allocateVoxels<T>(count: number, bytesPerVoxel: number, make: (count: number) => T, what: string): T {
  try {
    return make(count);
  } catch (error) {
    if (error instanceof RangeError) {
      throw new RtLiverError(
        'INPUT_TOO_LARGE',
        `${what}: ${formatCount(count)} voxels (${(count * bytesPerVoxel / 1024 ** 3).toFixed(1)} GB) do not fit in memory here.`,
        'Crop or downsample the image first, or use a machine with more memory.',
        { cause: error },
      );
    }
    throw error;
  }
}
