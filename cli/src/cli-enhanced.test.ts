/**
 * `rt-liver segment --out` on an Enhanced (multi-frame) CT: one file of 79 frames. The SEG writer
 * used to read the whole file again for every frame (3.3 GB at the peak for a 79-frame CT); now each
 * source file is read once, so writing the SEG costs about one more copy of the file. Measured as the
 * process's peak resident memory with and without --out (not a timing).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { makeAbdomenPhantom } from '../../synthetic/phantom';
import { writeCtSeries, writePart10 } from '../../synthetic/ct-series-writer';
import { indexToWorld, type Volume } from '../../extension/src/core/volume';

const BIN = join(__dirname, '..', 'bin', 'rt-liver.cjs');
const ENHANCED_CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2.1';

/** The volume as one Enhanced CT Image file: frames in k order, geometry in the functional groups. */
function writeEnhancedCt(volume: Volume<Int16Array>, seed: string): ArrayBuffer {
  const [nx, ny, nz] = volume.dimensions;
  const classic = writeCtSeries({ ...volume, dimensions: [nx, ny, 1], voxels: volume.voxels.subarray(0, nx * ny) }, { seed }).files[0];
  const base = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(classic.bytes).dict) as Record<string, unknown>;
  for (const key of ['ImagePositionPatient', 'ImageOrientationPatient', 'PixelSpacing', 'SliceThickness', 'RescaleIntercept', 'RescaleSlope', 'RescaleType', 'SliceLocation', 'WindowCenter', 'WindowWidth', '_vrMap']) delete base[key];
  const sopInstanceUID = `${String(base.SOPInstanceUID)}.9`;
  const [row, column] = [volume.direction[0], volume.direction[1]];
  const dataset = {
    ...base,
    SOPClassUID: ENHANCED_CT_IMAGE_STORAGE,
    SOPInstanceUID: sopInstanceUID,
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL', 'NONE'],
    NumberOfFrames: nz,
    ContentQualification: 'RESEARCH',
    SharedFunctionalGroupsSequence: [
      {
        PixelMeasuresSequence: [{ PixelSpacing: [volume.spacing[1], volume.spacing[0]], SliceThickness: volume.spacing[2] }],
        PlaneOrientationSequence: [{ ImageOrientationPatient: [...row, ...column] }],
        PixelValueTransformationSequence: [{ RescaleIntercept: 0, RescaleSlope: 1, RescaleType: 'HU' }],
      },
    ],
    PerFrameFunctionalGroupsSequence: Array.from({ length: nz }, (_, k) => ({
      PlanePositionSequence: [{ ImagePositionPatient: indexToWorld(volume, [0, 0, k]) }],
      FrameContentSequence: [{ FrameAcquisitionNumber: 1, InStackPositionNumber: k + 1, StackID: '1' }],
    })),
    PixelData: volume.voxels.slice().buffer,
    _vrMap: { PixelData: 'OW' },
  };
  return writePart10(dataset, sopInstanceUID);
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rt-liver-enhanced-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function segment(args: string[]) {
  const child = spawnSync(process.execPath, [BIN, 'segment', ...args, '--json', '-q'], { encoding: 'utf8', timeout: 240_000 });
  if (child.status !== 0) throw new Error(`rt-liver segment failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout);
}

test('a 79-frame Enhanced CT: the SEG costs about one copy of the file, not one per frame', () => {
  const { ct } = makeAbdomenPhantom({ seed: 'enhanced', dimensions: [256, 256, 79], spacing: [1.4, 1.4, 4] });
  const folder = join(work, 'enhanced');
  mkdirSync(folder);
  writeFileSync(join(folder, 'enhanced.dcm'), new Uint8Array(writeEnhancedCt(ct, 'enhanced')));
  const fileMb = statSync(join(folder, 'enhanced.dcm')).size / 1024 ** 2;
  expect(fileMb).toBeGreaterThan(9.8); // 79 x 256 x 256 x 2 bytes

  const withoutSeg = segment([folder]);
  const seg = join(work, 'seg.dcm');
  const withSeg = segment([folder, '--out', seg]);
  expect(withSeg.input.dimensions).toEqual([256, 256, 79]);
  expect(withSeg.outputs.seg).toBe(seg);
  expect(readFileSync(seg).subarray(128, 132).toString('latin1')).toBe('DICM');
  // Read once per frame, the file's copies alone would add 79 x 10 MB = 800 MB.
  const added = withSeg.memory_mb.peak_rss - withoutSeg.memory_mb.peak_rss;
  expect(added).toBeLessThan(4 * fileMb + 50);
}, 300_000);
