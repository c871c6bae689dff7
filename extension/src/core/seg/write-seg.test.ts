import dcmjs from 'dcmjs';
import { isRtLiverError } from '../errors';
import { indexToWorld, type Vec3 } from '../volume';
import { GENERATED_CASES, TEST_ALGORITHM, TEST_DEVICE, makeSegCase, obliqueDirections } from '../../../../test/conformance/support/seg-cases';
import { readSeg } from './read-seg';
import { writeLiverSeg, type WriteLiverSegOptions } from './write-seg';

function written(options: WriteLiverSegOptions) {
  const result = writeLiverSeg(options);
  if (result.status !== 'written') throw new Error('expected a SEG');
  return result;
}

function naturalize(bytes: ArrayBuffer): Record<string, any> {
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(bytes).dict) as Record<string, any>;
}

describe('writeLiverSeg', () => {
  it.each(GENERATED_CASES.map((options) => [options.name, options] as const))(
    '%s: reads back to exactly the mask, one frame per non-empty plane',
    async (_name, caseOptions) => {
      const segCase = makeSegCase(caseOptions);
      const result = written({ sourceInstances: segCase.files, mask: segCase.mask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE });
      expect(result.frameCount).toBe(segCase.nonEmptyPlanes);
      const back = await readSeg(result.bytes, segCase.mask);
      expect(back.frameCount).toBe(segCase.nonEmptyPlanes);
      expect(Buffer.from(back.mask.voxels).equals(Buffer.from(segCase.mask.voxels))).toBe(true);
    },
  );

  it('references, for each frame, the source image at the frame position', () => {
    const segCase = makeSegCase({ name: 'refs', dimensions: [23, 38, 7], order: 'shuffled' });
    const result = written({ sourceInstances: segCase.files, mask: segCase.mask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE });
    const positionOf = new Map(
      segCase.files.map((file) => {
        const ds = naturalize(file);
        return [ds.SOPInstanceUID as string, (ds.ImagePositionPatient as number[]).map(Number)];
      }),
    );
    const seg = naturalize(result.bytes);
    for (const frame of seg.PerFrameFunctionalGroupsSequence) {
      const source = frame.DerivationImageSequence.SourceImageSequence;
      expect(source.ReferencedSOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.2');
      expect(source.PurposeOfReferenceCodeSequence.CodeValue).toBe('121322');
      expect(frame.DerivationImageSequence.DerivationCodeSequence.CodeValue).toBe('113076');
      expect(frame.PlanePositionSequence.ImagePositionPatient.map(Number)).toEqual(positionOf.get(source.ReferencedSOPInstanceUID));
    }
    expect(seg.ReferencedSeriesSequence.ReferencedInstanceSequence).toHaveLength(7);
  });

  it('writes the segment, provenance and study identity the issue asks for', () => {
    const segCase = makeSegCase({ name: 'meta', dimensions: [16, 16, 4] });
    const result = written({
      sourceInstances: segCase.files,
      mask: segCase.mask,
      algorithm: TEST_ALGORITHM,
      device: TEST_DEVICE,
      seriesDescription: 'Liver (test)',
    });
    const seg = naturalize(result.bytes);
    const segment = seg.SegmentSequence[0];
    expect(segment.SegmentLabel).toBe('Liver');
    expect(segment.SegmentedPropertyCategoryCodeSequence[0]).toMatchObject({ CodeValue: '123037004', CodingSchemeDesignator: 'SCT' });
    expect(segment.SegmentedPropertyTypeCodeSequence[0]).toMatchObject({ CodeValue: '10200004', CodingSchemeDesignator: 'SCT' });
    expect(segment.SegmentAlgorithmType).toBe('AUTOMATIC');
    expect(segment.SegmentAlgorithmName).toBe('student-30k');
    expect(segment.SegmentationAlgorithmIdentificationSequence[0]).toMatchObject({ AlgorithmName: 'student-30k', AlgorithmVersion: '0.1.0' });
    expect(segment.RecommendedDisplayCIELabValue).toHaveLength(3);
    expect(seg).toMatchObject({
      Modality: 'SEG',
      SegmentationType: 'BINARY',
      BitsAllocated: 1,
      ContentQualification: 'RESEARCH',
      Manufacturer: TEST_DEVICE.manufacturer,
      ManufacturerModelName: TEST_DEVICE.modelName,
      SoftwareVersions: TEST_DEVICE.softwareVersions,
      DeviceSerialNumber: TEST_DEVICE.serialNumber,
      SeriesDescription: 'Liver (test)',
      StudyInstanceUID: segCase.studyInstanceUID,
      FrameOfReferenceUID: segCase.frameOfReferenceUID,
      SeriesInstanceUID: result.seriesInstanceUID,
      SOPInstanceUID: result.sopInstanceUID,
    });
    expect(result.seriesInstanceUID).not.toBe(segCase.seriesInstanceUID);
    expect(seg.PatientID).toBe('RTLIVER-PHANTOM');
    expect(seg.ImageComments).toBeUndefined();
    expect(dcmjs.data.DicomMessage.readFile(result.bytes).meta['00020010'].Value?.[0]).toBe('1.2.840.10008.1.2.1');
  });

  it('honours PRODUCT, SEMIAUTOMATIC and fixed UIDs, and is byte-identical when written again', () => {
    const segCase = makeSegCase({ name: 'again', dimensions: [16, 16, 4] });
    const options: WriteLiverSegOptions = {
      sourceInstances: segCase.files,
      mask: segCase.mask,
      algorithm: TEST_ALGORITHM,
      device: TEST_DEVICE,
      contentQualification: 'PRODUCT',
      algorithmType: 'SEMIAUTOMATIC',
      uids: { sopInstanceUID: '2.25.1234', seriesInstanceUID: '2.25.5678' },
      createdAt: new Date('2026-01-02T03:04:05Z'),
    };
    const first = written(options);
    const second = written(options);
    expect(Buffer.from(second.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    const seg = naturalize(first.bytes);
    expect(seg.ContentQualification).toBe('PRODUCT');
    expect(seg.SegmentSequence.SegmentAlgorithmType).toBe('SEMIAUTOMATIC');
    expect(seg.SOPInstanceUID).toBe('2.25.1234');
    expect(seg.ContentDate).toBe('20260102');
  });

  it('says "no liver found" for an empty mask and writes nothing', () => {
    const segCase = makeSegCase({ name: 'empty', dimensions: [16, 16, 4] });
    segCase.mask.voxels.fill(0);
    expect(writeLiverSeg({ sourceInstances: segCase.files, mask: segCase.mask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE })).toEqual({
      status: 'empty',
      message: 'no liver found',
    });
  });

  it('never modifies the source buffers', () => {
    const segCase = makeSegCase({ name: 'untouched', dimensions: [23, 38, 5], order: 'shuffled' });
    const copies = segCase.files.map((file) => Buffer.from(file.slice(0)));
    written({ sourceInstances: segCase.files, mask: segCase.mask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE });
    segCase.files.forEach((file, index) => expect(Buffer.from(file).equals(copies[index])).toBe(true));
  });

  it('accepts the mask in another axis order than the files (k reversed) and still matches by position', async () => {
    const segCase = makeSegCase({ name: 'flipped', dimensions: [23, 38, 7] });
    const [nx, ny, nz] = segCase.mask.dimensions;
    const flipped = new Uint8Array(segCase.mask.voxels.length);
    for (let k = 0; k < nz; k++) flipped.set(segCase.mask.voxels.subarray(k * nx * ny, (k + 1) * nx * ny), (nz - 1 - k) * nx * ny);
    const d = segCase.mask.direction;
    const flippedMask = {
      ...segCase.mask,
      origin: indexToWorld(segCase.mask, [0, 0, nz - 1]),
      direction: [d[0], d[1], d[2].map((v) => -v) as Vec3] as [Vec3, Vec3, Vec3],
      voxels: flipped,
    };
    const result = written({ sourceInstances: segCase.files, mask: flippedMask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE });
    const back = await readSeg(result.bytes, segCase.mask);
    expect(Buffer.from(back.mask.voxels).equals(Buffer.from(segCase.mask.voxels))).toBe(true);
  });

  it('accepts a mask stored left-right flipped (rows read backwards) and still matches by position', async () => {
    const segCase = makeSegCase({ name: 'mirrored', dimensions: [23, 38, 7] });
    const [nx, ny, nz] = segCase.mask.dimensions;
    const mirrored = new Uint8Array(segCase.mask.voxels.length);
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) mirrored[nx - 1 - i + j * nx + k * nx * ny] = segCase.mask.voxels[i + j * nx + k * nx * ny];
    const d = segCase.mask.direction;
    const mirroredMask = {
      ...segCase.mask,
      origin: indexToWorld(segCase.mask, [nx - 1, 0, 0]),
      direction: [d[0].map((v) => -v) as Vec3, d[1], d[2]] as [Vec3, Vec3, Vec3],
      voxels: mirrored,
    };
    const result = written({ sourceInstances: segCase.files, mask: mirroredMask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE });
    const back = await readSeg(result.bytes, segCase.mask);
    expect(Buffer.from(back.mask.voxels).equals(Buffer.from(segCase.mask.voxels))).toBe(true);
  });

  it('counts the same file passed twice once, and refuses two different files with one SOPInstanceUID', () => {
    const segCase = makeSegCase({ name: 'twice', dimensions: [16, 16, 4] });
    const again = written({ sourceInstances: [...segCase.files, segCase.files[2].slice(0)], mask: segCase.mask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE });
    expect(again.frameCount).toBe(segCase.nonEmptyPlanes);
    const altered = new Uint8Array(segCase.files[2].slice(0));
    altered[altered.length - 1] ^= 0xff; // a pixel byte: same header, other content
    let caught: unknown;
    try {
      writeLiverSeg({ sourceInstances: [...segCase.files, altered.buffer], mask: segCase.mask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE });
    } catch (error) {
      caught = error;
    }
    expect(isRtLiverError(caught) && caught.code).toBe('SEG_SOURCE_DUPLICATE');
  });

  it('writes the same SEG from the instances\' metadata (as a viewer holds it) as from the files', () => {
    const segCase = makeSegCase({ name: 'metadata', dimensions: [29, 33, 6], direction: obliqueDirections(), order: 'shuffled' });
    const common = {
      mask: segCase.mask,
      algorithm: TEST_ALGORITHM,
      device: TEST_DEVICE,
      uids: { sopInstanceUID: '2.25.42', seriesInstanceUID: '2.25.43' },
      createdAt: new Date('2026-01-02T03:04:05Z'),
    };
    const fromFiles = written({ ...common, sourceInstances: segCase.files });
    const metadata = segCase.files.map((file) => {
      const dataset = naturalize(file);
      delete dataset.PixelData;
      return dataset;
    });
    const fromMetadata = written({ ...common, sourceInstances: metadata });
    expect(Buffer.from(fromMetadata.bytes).equals(Buffer.from(fromFiles.bytes))).toBe(true);

    delete metadata[2].ImagePositionPatient;
    let caught: unknown;
    try {
      writeLiverSeg({ ...common, sourceInstances: metadata });
    } catch (error) {
      caught = error;
    }
    expect(isRtLiverError(caught) && caught.code).toBe('SEG_SOURCE_INCOMPLETE');
  });

  it('refuses a source file that is not DICOM Part-10, or that lacks its plane or identity, naming it', () => {
    const segCase = makeSegCase({ name: 'bad-source', dimensions: [16, 16, 4] });
    const codeOf = (files: ArrayBuffer[]) => {
      try {
        writeLiverSeg({ sourceInstances: files, mask: segCase.mask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE });
      } catch (error) {
        return isRtLiverError(error) ? `${error.code}: ${error.message}` : String(error);
      }
      return 'written';
    };
    const without = (keyword: string) => {
      const file = dcmjs.data.DicomMessage.readFile(segCase.files[1]);
      const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(file.dict) as Record<string, unknown>;
      delete dataset[keyword];
      file.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
      return file.write() as ArrayBuffer;
    };
    const text = new TextEncoder().encode('not a DICOM file').buffer;
    expect(codeOf([segCase.files[0], text])).toMatch(/^SEG_SOURCE_UNREADABLE: Source instance #2 is not a readable DICOM Part-10 file/);
    expect(codeOf([segCase.files[0], without('ImagePositionPatient'), ...segCase.files.slice(2)])).toMatch(
      /^SEG_SOURCE_INCOMPLETE: Source instance #2 has no valid ImagePositionPatient/,
    );
    expect(codeOf([segCase.files[0], without('FrameOfReferenceUID'), ...segCase.files.slice(2)])).toMatch(
      /^SEG_SOURCE_INCOMPLETE: Source instance #2 has no FrameOfReferenceUID/,
    );
  });

  describe('refuses a mask whose grid does not match the instances', () => {
    const segCase = makeSegCase({ name: 'mismatch', dimensions: [23, 38, 7] });
    const attempt = (mask: typeof segCase.mask, files = segCase.files) => () =>
      writeLiverSeg({ sourceInstances: files, mask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE });
    const expectCode = (run: () => unknown, code: string) => {
      try {
        run();
      } catch (error) {
        expect(isRtLiverError(error) && error.code).toBe(code);
        expect((error as Error).message).toMatch(/\w/);
        return;
      }
      throw new Error('expected an RtLiverError');
    };
    it('half a voxel shifted', () => {
      const origin = segCase.mask.origin.map((v, axis) => (axis === 0 ? v + segCase.mask.spacing[0] / 2 : v)) as Vec3;
      expectCode(attempt({ ...segCase.mask, origin }), 'SEG_GRID_MISMATCH');
    });
    it('another spacing', () => {
      expectCode(attempt({ ...segCase.mask, spacing: [0.81, 0.9, 2.5] }), 'SEG_GRID_MISMATCH');
    });
    it('a resampled matrix', () => {
      const dimensions: Vec3 = [46, 76, 7];
      expectCode(attempt({ ...segCase.mask, dimensions, spacing: [0.4, 0.45, 2.5], voxels: new Uint8Array(46 * 76 * 7).fill(1) }), 'SEG_GRID_MISMATCH');
    });
    it('a source image missing', () => {
      expectCode(attempt(segCase.mask, segCase.files.slice(1)), 'SEG_GRID_MISMATCH');
    });
    it('a series description longer than DICOM allows (LO, 64 characters)', () => {
      const run = () =>
        writeLiverSeg({ sourceInstances: segCase.files, mask: segCase.mask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE, seriesDescription: 'x'.repeat(65) });
      expectCode(run, 'SEG_INVALID_OPTIONS');
    });
    it('a mask of the wrong length', () => {
      expectCode(attempt({ ...segCase.mask, voxels: new Uint8Array(10) }), 'SEG_INVALID_MASK');
    });
  });
});
