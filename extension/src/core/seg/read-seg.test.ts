import dcmjs from 'dcmjs';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithSharedData } from '../../../../test/support/shared-data';
import { isRtLiverError } from '../errors';
import { readSeg, readSegSegments } from './read-seg';
import { gridOfSourceInstances } from './source-grid';
import { writeLiverSeg } from './write-seg';
import { TEST_ALGORITHM, TEST_DEVICE, makeSegCase } from '../../../../test/conformance/support/seg-cases';

function arrayBuffer(path: string): ArrayBuffer {
  const bytes = readFileSync(path);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function countOnes(voxels: Uint8Array): number {
  let count = 0;
  for (const value of voxels) count += value;
  return count;
}

describeWithSharedData('readSeg on the dcmqi liver SEG and its re-encodings', ['ct', 'dcmqi-3slice', 'segmentations'], (segmentations) => {
  const ctFolder = join(segmentations, 'ct-3slice');
  const ct = readdirSync(ctFolder).sort().map((name) => arrayBuffer(join(ctFolder, name)));
  const grid = gridOfSourceInstances(ct);

  it("reads dcmqi's liver.dcm: 3 frames, the 107,098 liver voxels the data README lists", async () => {
    const result = await readSeg(arrayBuffer(join(segmentations, 'liver.dcm')), grid);
    expect(result.frameCount).toBe(3);
    expect(result.segment).toMatchObject({ number: 1, label: 'Liver', algorithmType: 'SEMIAUTOMATIC' });
    expect(countOnes(result.mask.voxels)).toBe(107098);
  });

  describeWithSharedData('pydicom-data re-encodings', ['seg-reference', 'pydicom-data'], (pydicomData) => {
    const names = readdirSync(pydicomData).filter((name) => name.endsWith('.dcm'));
    it('finds all nine variants', () => expect(names).toHaveLength(9));
    it.each(names)('%s gives the same mask as dcmqi liver.dcm', async (name) => {
      const reference = await readSeg(arrayBuffer(join(segmentations, 'liver.dcm')), grid);
      const result = await readSeg(arrayBuffer(join(pydicomData, name)), grid);
      expect(result.frameCount).toBe(3);
      expect(Buffer.from(result.mask.voxels).equals(Buffer.from(reference.mask.voxels))).toBe(true);
    });
  });

  it('lists the segments of a multi-segment SEG and reads the one asked for', async () => {
    const bytes = arrayBuffer(join(segmentations, 'partial_overlaps.dcm'));
    const segments = readSegSegments(bytes);
    expect(segments.length).toBeGreaterThan(1);
    const result = await readSeg(bytes, grid, { segmentNumber: segments[1].number });
    expect(result.segment.number).toBe(segments[1].number);
    expect(countOnes(result.mask.voxels)).toBeGreaterThan(0);
  });

  it('refuses a LABELMAP SEG with a message that says so', async () => {
    const bytes = arrayBuffer(join(segmentations, 'sparse-labelmap-noppv.dcm'));
    await expect(readSeg(bytes, grid)).rejects.toMatchObject({ code: 'SEG_NOT_A_SEG', hint: expect.stringMatching(/LABELMAP/) });
  });

  it('refuses to place frames on a grid they do not belong to', async () => {
    const shifted = { ...grid, origin: [grid.origin[0] + 0.4, grid.origin[1], grid.origin[2]] as [number, number, number] };
    const error = await readSeg(arrayBuffer(join(segmentations, 'liver.dcm')), shifted).catch((caught: unknown) => caught);
    expect(isRtLiverError(error) && error.code).toBe('SEG_GRID_MISMATCH');
  });
});

describe('readSeg on SEGs other writers could make', () => {
  const segCase = makeSegCase({ name: 'variants', dimensions: [23, 38, 7], order: 'shuffled' });
  const result = writeLiverSeg({ sourceInstances: segCase.files, mask: segCase.mask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE });
  if (result.status !== 'written') throw new Error('expected a SEG');

  /** Our SEG, changed through dcmjs' naturalized dataset and written again. */
  function rewrite(change: (dataset: Record<string, any>) => void): ArrayBuffer {
    const file = dcmjs.data.DicomMessage.readFile(result.status === 'written' ? result.bytes : new ArrayBuffer(0));
    const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(file.dict) as Record<string, any>;
    change(dataset);
    file.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
    return file.write();
  }

  it('places frames without ImagePositionPatient through the source image they reference', async () => {
    const bytes = rewrite((dataset) => {
      for (const frame of dataset.PerFrameFunctionalGroupsSequence) delete frame.PlanePositionSequence;
    });
    const error = await readSeg(bytes, segCase.mask).catch((caught: unknown) => caught);
    expect(isRtLiverError(error) && error.code).toBe('SEG_NO_GEOMETRY');
    const back = await readSeg(bytes, segCase.mask, { sourceInstances: segCase.files });
    expect(Buffer.from(back.mask.voxels).equals(Buffer.from(segCase.mask.voxels))).toBe(true);
  });

  it('reads a FRACTIONAL SEG as the voxels above half of MaximumFractionalValue', async () => {
    const pixels = segCase.mask.dimensions[0] * segCase.mask.dimensions[1];
    const bytes = rewrite((dataset) => {
      const frames = dataset.NumberOfFrames as number;
      const packed = new Uint8Array(dataset.PixelData[0]);
      const fractional = new Uint8Array(frames * pixels);
      for (let index = 0; index < fractional.length; index++) {
        // In the mask: 200 of 255; outside: 100 of 255 (below half, so not in the segment).
        fractional[index] = (packed[index >>> 3] >>> (index & 7)) & 1 ? 200 : 100;
      }
      Object.assign(dataset, { SegmentationType: 'FRACTIONAL', SegmentationFractionalType: 'PROBABILITY', MaximumFractionalValue: 255 });
      Object.assign(dataset, { BitsAllocated: 8, BitsStored: 8, HighBit: 7, PixelData: [fractional.buffer] });
    });
    const back = await readSeg(bytes, segCase.mask);
    expect(back.segmentationType).toBe('FRACTIONAL');
    expect(Buffer.from(back.mask.voxels).equals(Buffer.from(segCase.mask.voxels))).toBe(true);
  });
});
