/** Stored values to HU: rescale, rounding, clamping to int16, and BitsStored narrower than BitsAllocated. */
import type { DicomInstance } from './instance';
import { writeHounsfieldSlice } from './hounsfield';

function instance(overrides: Partial<DicomInstance>): DicomInstance {
  return {
    fileName: 'x.dcm', transferSyntaxUID: '1.2.840.10008.1.2.1', sopClassUID: '', sopInstanceUID: '', modality: 'CT',
    rows: 1, columns: 4, numberOfFrames: 1, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 0,
    photometricInterpretation: 'MONOCHROME2', rescaleSlope: 1, rescaleIntercept: 0, patientStudy: {}, ...overrides,
  };
}

function convert(samples: Int16Array | Uint16Array, overrides: Partial<DicomInstance>): { hu: number[]; clamped: number } {
  const target = new Int16Array(samples.length + 2);
  const clamped = writeHounsfieldSlice(samples, instance(overrides), target, 1);
  expect(target[0]).toBe(0);
  expect(target[target.length - 1]).toBe(0);
  return { hu: Array.from(target.subarray(1, 1 + samples.length)), clamped };
}

test('uint16 with intercept -1024 gives negative HU; values beyond int16 are clamped and counted', () => {
  const { hu, clamped } = convert(new Uint16Array([0, 24, 1024, 65535]), { rescaleIntercept: -1024 });
  expect(hu).toEqual([-1024, -1000, 0, 32767]);
  expect(clamped).toBe(1);
});

test('int16 with intercept 0 is copied as is', () => {
  expect(convert(new Int16Array([-2048, -1, 0, 3071]), { pixelRepresentation: 1 })).toEqual({ hu: [-2048, -1, 0, 3071], clamped: 0 });
});

test('a fractional slope and intercept round to the nearest HU', () => {
  const { hu } = convert(new Uint16Array([0, 1, 3, 4001]), { rescaleSlope: 0.5, rescaleIntercept: -1024.25 });
  expect(hu).toEqual([-1024, -1024, -1023, 976]);
});

test('12 bits stored, signed: sign-extended from bit 11, stray high bits ignored', () => {
  // 0x0800 is -2048 in 12-bit two's complement; 0xF7FF has junk above bit 11 and means 2047.
  const { hu } = convert(new Uint16Array([0x0800, 0x0fff, 0xf7ff, 0x0001]), { bitsStored: 12, pixelRepresentation: 1, rescaleIntercept: 0 });
  expect(hu).toEqual([-2048, -1, 2047, 1]);
});

test('12 bits stored, unsigned: bits above the stored range (old overlay planes) are masked off', () => {
  const { hu } = convert(new Uint16Array([0xf000, 0x1fff, 0x8400, 24]), { bitsStored: 12, rescaleIntercept: -1024 });
  expect(hu).toEqual([-1024, 3071, 0, -1000]);
});

test('12 bits stored with a fractional slope: masked, sign-extended, then rescaled and rounded', () => {
  const { hu } = convert(new Uint16Array([0xf800, 0x0002, 0x07ff]), { bitsStored: 12, pixelRepresentation: 1, rescaleSlope: 0.5, rescaleIntercept: 0.25 });
  expect(hu).toEqual([-1024, 1, 1024]);
});
