/**
 * Headers that lie about their size or geometry are refused from the header, before a voxel is
 * allocated, with an error that names the file and the limit: NumberOfFrames 3,000,000 (it took
 * 2.1 GB before), Rows and Columns 65535 (it ended in a RangeError), negative or zero PixelSpacing
 * (a negative one mirrored the mask in world space).
 */
import dcmjs from 'dcmjs';
import { RtLiverError } from '../errors';
import { InputLimitError, inputLimits } from '../limits';
import { writeCtSeries, writePart10 } from '../../../../synthetic/ct-series-writer';
import type { Volume } from '../volume';
import { readDicomSeries, type DicomFileBytes } from './index';

const source: Volume<Int16Array> = {
  voxels: new Int16Array(10 * 8 * 4).map((_, index) => (index % 300) - 150),
  dimensions: [10, 8, 4],
  spacing: [1, 1, 2],
  origin: [0, 0, 0],
  direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
};
const series = writeCtSeries(source, { seed: 'limits' }).files;

/** The series with `patch` applied to the dataset of every file (or only of file `only`). */
function patched(patch: Record<string, unknown>, only?: number): DicomFileBytes[] {
  return series.map((file, k) => {
    if (only !== undefined && k !== only) return { name: file.name, bytes: new Uint8Array(file.bytes) };
    const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(file.bytes).dict) as Record<string, unknown>;
    return { name: file.name, bytes: new Uint8Array(writePart10({ ...dataset, ...patch }, file.sopInstanceUID)) };
  });
}

async function failure(files: DicomFileBytes[], limits = inputLimits()): Promise<RtLiverError> {
  const error = await readDicomSeries(files, { limits }).then(() => undefined, (caught: unknown) => caught);
  if (!(error instanceof RtLiverError)) throw new Error(`expected an RtLiverError, got ${String(error)}`);
  return error;
}

test('NumberOfFrames 3,000,000 is refused from the header, naming the file and the limit', async () => {
  const rssBefore = process.memoryUsage().rss;
  const start = performance.now();
  const error = await failure(patched({ NumberOfFrames: 3_000_000 }, 1));
  expect(performance.now() - start).toBeLessThan(2_000); // it used to take many seconds and 2.1 GB
  expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 ** 2);
  expect(error).toBeInstanceOf(InputLimitError);
  expect((error as InputLimitError).limit).toBe('maxFrames');
  expect(error.message).toContain(series[1].name);
  expect(error.message).toMatch(/NumberOfFrames is 3000000: 3,000,000 frames, over the limit of 10,000/);
});

test('Rows and Columns 65535 give a clear error, not a RangeError', async () => {
  const error = await failure(patched({ Rows: 65535, Columns: 65535 }));
  expect(error).toBeInstanceOf(InputLimitError);
  expect((error as InputLimitError).limit).toBe('maxVoxels');
  expect(error.message).toMatch(/65535 x 65535 pixels/);
});

test('a limit raised past what fits in memory still ends in an RtLiverError', async () => {
  const error = await failure(patched({ Rows: 65535, Columns: 65535 }), inputLimits({ maxVoxels: 1e13 }));
  expect(error).not.toBeInstanceOf(InputLimitError);
  // Either the pixels are too short for the header (read first) or the volume cannot be allocated.
  expect(error.code).toMatch(/DICOM_TRUNCATED_PIXEL_DATA|INPUT_TOO_LARGE/);
});

test('the series-wide limits count slices and voxels', async () => {
  const slices = await failure(patched({}), inputLimits({ maxFrames: 3 }));
  expect(slices.message).toMatch(/The series has 4 slices: 4 frames, over the limit of 3/);
  const voxels = await failure(patched({}), inputLimits({ maxVoxels: 319 }));
  expect(voxels.message).toMatch(/10 x 8 x 4 voxels: 320 voxels, over the limit of 319/);
  await expect(readDicomSeries(patched({}), { limits: inputLimits({ maxFrames: 4, maxVoxels: 320 }) })).resolves.toBeDefined();
});

test.each([
  ['negative', '-0.8\\0.8'],
  ['zero', '0.8\\0'],
])('a %s PixelSpacing is refused, not mirrored or collapsed', async (_, spacing) => {
  const error = await failure(patched({ PixelSpacing: spacing }));
  expect(error.code).toBe('DICOM_BAD_PIXEL_SPACING');
  expect(error.message).toContain(`PixelSpacing ${spacing}`);
  expect(error.hint).toMatch(/original CT series/);
});
