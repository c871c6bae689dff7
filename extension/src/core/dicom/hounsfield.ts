/**
 * Stored sample values to Hounsfield units, stored as Int16Array: stored x RescaleSlope +
 * RescaleIntercept, rounded to the nearest integer (1 HU is far below CT noise) and clamped to
 * [-32768, 32767]; the caller warns with the count of clamped voxels (only extended-range metal
 * reconstructions get there). Integer rescales (nearly all CT) take tight loops without rounding.
 */
import type { DicomInstance } from './instance';
import type { SampleArray } from './pixel-data';

/** The volume holds HU as Int16Array: values outside its range are clamped (and counted). */
const INT16_MAX = 32767;
const INT16_MIN = -32768;

/** What turns stored sample values into HU. */
export type HounsfieldEncoding = Pick<DicomInstance, 'bitsAllocated' | 'bitsStored' | 'pixelRepresentation' | 'rescaleSlope' | 'rescaleIntercept'>;

/**
 * Stored values to HU into `target` at `offset`; returns how many voxels were clamped. Samples with
 * BitsStored < BitsAllocated are masked (unsigned) or sign-extended (signed) from BitsStored first, so
 * stray bits above the stored range (old overlay planes) do not leak into HU.
 */
export function writeHounsfieldSlice(samples: SampleArray, encoding: HounsfieldEncoding, target: Int16Array, offset: number): number {
  const slope = encoding.rescaleSlope;
  const intercept = encoding.rescaleIntercept;
  const bitsStored = encoding.bitsStored;
  const narrowed = bitsStored > 0 && bitsStored < encoding.bitsAllocated;
  const mask = narrowed ? 2 ** bitsStored - 1 : 0;
  const signBit = narrowed ? 2 ** (bitsStored - 1) : 0;
  const signed = encoding.pixelRepresentation === 1;
  let clamped = 0;
  if (narrowed && slope === 1 && Number.isInteger(intercept)) {
    return addInterceptNarrowed(samples, target.subarray(offset, offset + samples.length), intercept, bitsStored, signed);
  }
  if (!narrowed && slope === 1 && Number.isInteger(intercept)) {
    // The common case (integer intercept, unit slope): integer adds, no rounding.
    if (intercept === 0 && samples instanceof Int16Array) {
      target.set(samples, offset);
      return 0;
    }
    return addIntercept(samples, target.subarray(offset, offset + samples.length), intercept);
  }
  for (let index = 0; index < samples.length; index++) {
    let stored = samples[index];
    if (narrowed) {
      stored = stored & mask;
      if (signed && stored >= signBit) stored -= mask + 1;
    }
    let hu = Math.round(stored * slope + intercept);
    if (hu > INT16_MAX) {
      hu = INT16_MAX;
      clamped++;
    } else if (hu < INT16_MIN) {
      hu = INT16_MIN;
      clamped++;
    }
    target[offset + index] = hu;
  }
  return clamped;
}

/** HU = stored + intercept, clamped to int16; a small function of its own so the JIT keeps it tight. */
function addIntercept(samples: SampleArray, slice: Int16Array, intercept: number): number {
  const count = samples.length;
  let clamped = 0;
  for (let index = 0; index < count; index++) {
    const hu = samples[index] + intercept;
    if (hu > INT16_MAX || hu < INT16_MIN) {
      slice[index] = hu > INT16_MAX ? INT16_MAX : INT16_MIN;
      clamped++;
    } else {
      slice[index] = hu;
    }
  }
  return clamped;
}

/** As addIntercept, for samples with BitsStored < BitsAllocated: masked or sign-extended first. */
function addInterceptNarrowed(samples: SampleArray, slice: Int16Array, intercept: number, bitsStored: number, signed: boolean): number {
  const count = samples.length;
  const mask = 2 ** bitsStored - 1;
  const signBit = 2 ** (bitsStored - 1);
  const wrap = signed ? mask + 1 : 0;
  let clamped = 0;
  for (let index = 0; index < count; index++) {
    let stored = samples[index] & mask;
    if (stored >= signBit) stored -= wrap;
    const hu = stored + intercept;
    if (hu > INT16_MAX || hu < INT16_MIN) {
      slice[index] = hu > INT16_MAX ? INT16_MAX : INT16_MIN;
      clamped++;
    } else {
      slice[index] = hu;
    }
  }
  return clamped;
}
