/**
 * Every bad input gets a specific RtLiverError (code + message naming the problem + hint), and damaged
 * or foreign files are handled by the stated rule: skipped with a note or warning unless the chosen
 * series can no longer be complete.
 */
import dcmjs from 'dcmjs';
import { RtLiverError } from '../errors';
import { writeCtSeries, writePart10, type CtSeriesOptions } from '../../../../synthetic/ct-series-writer';
import type { Vec3, Volume } from '../volume';
import { parseDicomInstances, readDicomSeries, selectCtSeries, type DicomFileBytes } from './index';

const AXIAL: [Vec3, Vec3, Vec3] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];

function volume(dimensions: Vec3 = [8, 6, 6], spacing: Vec3 = [1, 1, 2.5], origin: Vec3 = [0, 0, 0], direction = AXIAL): Volume<Int16Array> {
  const voxels = new Int16Array(dimensions[0] * dimensions[1] * dimensions[2]).map((_, index) => (index % 300) - 100);
  return { voxels, dimensions, spacing, origin, direction };
}

function files(source: Volume<Int16Array>, options: CtSeriesOptions = {}): DicomFileBytes[] {
  return writeCtSeries(source, { seed: 'errors', ...options }).files.map((file) => ({ name: file.name, bytes: file.bytes }));
}

/** A minimal non-CT instance (MR image, SEG, RTSTRUCT) written as Part 10. */
function otherInstance(modality: string, sopClassUID: string, seriesInstanceUID: string, description: string): DicomFileBytes {
  const sopInstanceUID = `2.25.${Math.floor(Math.random() * 1e15)}`;
  const bytes = writePart10(
    {
      SOPClassUID: sopClassUID,
      SOPInstanceUID: sopInstanceUID,
      Modality: modality,
      StudyInstanceUID: '2.25.1',
      SeriesInstanceUID: seriesInstanceUID,
      SeriesDescription: description,
      SeriesNumber: '9',
    },
    sopInstanceUID,
  );
  return { name: `${modality}.dcm`, bytes };
}

/** A copy of a Part-10 file with some attributes changed (through dcmjs's naturalized dataset). */
function rewrite(bytes: ArrayBuffer | Uint8Array, change: (dataset: Record<string, unknown>) => void): ArrayBuffer {
  const buffer = bytes instanceof Uint8Array ? bytes.slice().buffer : bytes;
  const dict = dcmjs.data.DicomMessage.readFile(buffer);
  const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict) as Record<string, unknown>;
  change(dataset);
  if (dataset.PixelData) dataset._vrMap = { PixelData: 'OW' };
  return writePart10(dataset, String(dataset.SOPInstanceUID));
}

async function readError(input: DicomFileBytes[], options = {}): Promise<RtLiverError> {
  try {
    await readDicomSeries(input, options);
  } catch (error) {
    if (error instanceof RtLiverError) return error;
    throw error;
  }
  throw new Error('expected an RtLiverError');
}

function hasUsefulHint(error: RtLiverError): void {
  expect(error.hint).toBeDefined();
  expect((error.hint ?? '').length).toBeGreaterThan(10);
}

describe('bad input: series choice', () => {
  test('empty input', () => {
    expect(() => selectCtSeries([])).toThrow(expect.objectContaining({ code: 'DICOM_NO_INSTANCES' }));
  });

  test('nothing readable: only non-DICOM files', () => {
    const text = { name: 'notes.txt', bytes: new TextEncoder().encode('hello, not an image').buffer };
    expect(() => parseDicomInstances([text])).toThrow(expect.objectContaining({ code: 'DICOM_NOTHING_READABLE' }));
  });

  test('no CT series: MR, SEG and RTSTRUCT are named', async () => {
    const error = await readError([
      otherInstance('MR', '1.2.840.10008.5.1.4.1.1.4', '2.25.11', 'T2 axial'),
      otherInstance('SEG', '1.2.840.10008.5.1.4.1.1.66.4', '2.25.12', 'Liver SEG'),
      otherInstance('RTSTRUCT', '1.2.840.10008.5.1.4.1.1.481.3', '2.25.13', 'Contours'),
    ]);
    expect(error.code).toBe('DICOM_NO_CT_SERIES');
    expect(error.message).toMatch(/MR #9 "T2 axial"/);
    expect(error.message).toMatch(/SEG #9 "Liver SEG"/);
    expect(error.message).toMatch(/RTSTRUCT/);
    hasUsefulHint(error);
  });

  test('several CT series without a choice list UIDs, descriptions and slice counts; --series picks one', async () => {
    const first = files(volume(), { seriesInstanceUID: '2.25.101', seriesDescription: 'Arterial', seed: 'a' });
    const second = files(volume([8, 6, 4]), { seriesInstanceUID: '2.25.102', seriesDescription: 'Venous', seed: 'b' });
    const error = await readError([...first, ...second]);
    expect(error.code).toBe('DICOM_SEVERAL_CT_SERIES');
    expect(error.message).toContain('2.25.101');
    expect(error.message).toContain('"Venous": 4 slice(s), 2.25.102');
    expect(error.hint).toMatch(/--series/);
    const chosen = await readDicomSeries([...first, ...second], { seriesInstanceUID: '2.25.102' });
    expect(chosen.volume.dimensions[2]).toBe(4);
  });

  test('an unknown --series is named with what was found', async () => {
    const error = await readError(files(volume()), { seriesInstanceUID: '2.25.999' });
    expect(error.code).toBe('DICOM_SERIES_NOT_FOUND');
    expect(error.message).toContain('2.25.999');
  });

  test('one slice', async () => {
    const error = await readError(files(volume([8, 6, 1])));
    expect(error.code).toBe('DICOM_SINGLE_SLICE');
    hasUsefulHint(error);
  });

  test('a one-image localizer series (another plane) next to the stack is left aside with a note', async () => {
    const stack = files(volume(), { seriesInstanceUID: '2.25.201', seed: 'stack' });
    const coronal: [Vec3, Vec3, Vec3] = [[1, 0, 0], [0, 0, -1], [0, 1, 0]];
    const scout = files(volume([8, 6, 1], [1, 1, 1], [0, 0, 0], coronal), { seriesInstanceUID: '2.25.202', seed: 'scout', seriesDescription: 'Topogram' });
    const result = await readDicomSeries([...scout, ...stack]);
    expect(result.series.seriesInstanceUID).toBe('2.25.201');
    expect(result.warnings.join(' ')).toMatch(/Left aside 1 single-image CT series.*Topogram/);
  });

  test('a lone axial image in a series of its own is not guessed away: the choice goes to the user', async () => {
    const stack = files(volume(), { seriesInstanceUID: '2.25.211', seed: 'stack' });
    const lone = files(volume([8, 6, 1]), { seriesInstanceUID: '2.25.212', seed: 'lone' }).map((file) => ({ ...file, name: 'lone.dcm' }));
    const error = await readError([...stack, ...lone]);
    expect(error.code).toBe('DICOM_SEVERAL_CT_SERIES');
    expect(error.message).toContain('1 slice(s), 2.25.212 (file lone.dcm)');
  });
});

describe('bad input: slice geometry', () => {
  test('duplicate positions (the same slice twice under another name)', async () => {
    const series = files(volume());
    const error = await readError([...series, { name: 'copy-of-slice.dcm', bytes: series[2].bytes }]);
    expect(error.code).toBe('DICOM_DUPLICATE_POSITION');
    expect(error.message).toContain('copy-of-slice.dcm');
  });

  test('a missing slice (gap > 1.5x the spacing) names its neighbours', async () => {
    const series = files(volume([8, 6, 8]));
    const error = await readError(series.filter((_, k) => k !== 4));
    expect(error.code).toBe('DICOM_MISSING_SLICE');
    expect(error.message).toContain(series[3].name);
    expect(error.message).toContain(series[5].name);
    expect(error.message).toMatch(/5 mm apart.*2\.5 mm/);
  });

  test('non-uniform spacing beyond tolerance is refused, not resampled', async () => {
    const shared = { seriesInstanceUID: '2.25.301', frameOfReferenceUID: '2.25.302' };
    const lower = files(volume([8, 6, 5], [1, 1, 2.5], [0, 0, 0]), { ...shared, seed: 'lower' });
    const upper = files(volume([8, 6, 5], [1, 1, 3], [0, 0, 13]), { ...shared, seed: 'upper' }).map((file) => ({ ...file, name: `upper-${file.name}` }));
    const error = await readError([...lower, ...upper]);
    expect(error.code).toBe('DICOM_NONUNIFORM_SPACING');
    expect(error.message).toMatch(/gaps range from 2\.5 to 3 mm/);
    expect(error.message).toMatch(/does not resample/);
  });

  test('small jitter in positions (below tolerance) is accepted', async () => {
    const series = writeCtSeries(volume([8, 6, 6], [1, 1, 2.5]), { seed: 'jitter' });
    // Move one slice by 0.02 mm along z, as rounded ImagePositionPatient values do.
    const moved = rewrite(series.files[3].bytes, (dataset) => {
      const position = dataset.ImagePositionPatient as number[];
      dataset.ImagePositionPatient = [position[0], position[1], Number(position[2]) + 0.02];
    });
    const input = series.files.map((file, k) => ({ name: file.name, bytes: k === 3 ? moved : file.bytes }));
    const result = await readDicomSeries(input);
    expect(result.volume.spacing[2]).toBeCloseTo(2.5, 9);
  });

  test('mixed orientations', async () => {
    const shared = { seriesInstanceUID: '2.25.401', frameOfReferenceUID: '2.25.402' };
    const axial = files(volume([8, 6, 4]), { ...shared, seed: 'axial' });
    const tilted: [Vec3, Vec3, Vec3] = [[1, 0, 0], [0, 0.995, -0.0998], [0, 0.0998, 0.995]];
    const other = files(volume([8, 6, 4], [1, 1, 2.5], [0, 0, 20], tilted), { ...shared, seed: 'tilted' }).map((file) => ({ ...file, name: `t-${file.name}` }));
    const error = await readError([...axial, ...other]);
    expect(error.code).toBe('DICOM_MIXED_ORIENTATION');
    expect(error.message).toMatch(/4 x \[1, 0, 0, 0, 1, 0\]/);
  });

  test('a localizer image inside the series is left aside with a note', async () => {
    const shared = { seriesInstanceUID: '2.25.601', frameOfReferenceUID: '2.25.602' };
    const stack = files(volume(), { ...shared, seed: 'stack' });
    const sagittal: [Vec3, Vec3, Vec3] = [[0, 1, 0], [0, 0, -1], [1, 0, 0]];
    const [scout] = files(volume([8, 6, 1], [1, 1, 1], [0, 0, 0], sagittal), { ...shared, seed: 'scout' });
    const localizer = rewrite(scout.bytes, (dataset) => {
      dataset.ImageType = ['ORIGINAL', 'PRIMARY', 'LOCALIZER'];
    });
    const result = await readDicomSeries([...stack, { name: 'scout.dcm', bytes: localizer }]);
    expect(result.volume.dimensions).toEqual([8, 6, 6]);
    expect(result.warnings.join(' ')).toMatch(/Left aside 1 localizer image\(s\) of the series: scout\.dcm/);
    // Without the LOCALIZER mark the same file is a mixed orientation.
    await expect(readDicomSeries([...stack, { name: 'scout.dcm', bytes: scout.bytes }])).rejects.toMatchObject({ code: 'DICOM_MIXED_ORIENTATION' });
  });

  test('a secondary capture (dose screen) inside the series is left aside with a note', async () => {
    const stack = files(volume(), { seriesInstanceUID: '2.25.701', seed: 'dose' });
    const doseScreen = rewrite(stack[0].bytes, (dataset) => {
      dataset.SOPClassUID = '1.2.840.10008.5.1.4.1.1.7';
      dataset.SOPInstanceUID = '2.25.7019';
      delete dataset.ImagePositionPatient;
      delete dataset.ImageOrientationPatient;
    });
    const result = await readDicomSeries([...stack, { name: 'dose.dcm', bytes: doseScreen }]);
    expect(result.volume.dimensions[2]).toBe(6);
    expect(result.warnings.join(' ')).toMatch(/Left aside 1 instance\(s\) of the series that are not CT images/);
  });

  test('mixed matrix sizes', async () => {
    const shared = { seriesInstanceUID: '2.25.501', frameOfReferenceUID: '2.25.502' };
    const small = files(volume([8, 6, 3]), { ...shared, seed: 'small' });
    const large = files(volume([10, 6, 3], [1, 1, 2.5], [0, 0, 7.5]), { ...shared, seed: 'large' }).map((file) => ({ ...file, name: `l-${file.name}` }));
    const error = await readError([...small, ...large]);
    expect(error.code).toBe('DICOM_MIXED_SIZES');
    expect(error.message).toMatch(/3 x 6x8, 3 x 6x10/);
  });
});

describe('damaged and foreign files', () => {
  test('a slice cut off in its header: the gap it leaves is reported with the damaged file named', async () => {
    const series = files(volume());
    const truncated = { name: series[2].name, bytes: series[2].bytes.slice(0, 600) };
    const input = series.map((file, k) => (k === 2 ? truncated : file));
    const error = await readError(input);
    expect(error.code).toBe('DICOM_MISSING_SLICE');
    expect(error.message).toMatch(new RegExp(`could not be read as DICOM and may hold it: ${series[2].name}`));
  });

  test('a slice of the chosen series cut off in its Pixel Data: the series cannot be complete, so reading fails naming it', async () => {
    const series = files(volume());
    const bytes = new Uint8Array(series[1].bytes);
    const input = series.map((file, k) => (k === 1 ? { name: file.name, bytes: bytes.slice(0, bytes.length - 10) } : file));
    const error = await readError(input);
    expect(error.code).toBe('DICOM_DAMAGED_FILE');
    expect(error.message).toContain(series[1].name);
    hasUsefulHint(error);
  });

  test('a corrupt file of unknown series and a non-DICOM file are skipped with a warning and a note', async () => {
    const series = files(volume());
    const corrupt = new Uint8Array(400);
    corrupt.set([0x44, 0x49, 0x43, 0x4d], 128); // DICM, then garbage
    corrupt.fill(0xff, 132);
    const result = await readDicomSeries([
      ...series,
      { name: 'broken.dcm', bytes: corrupt.buffer },
      { name: 'README.txt', bytes: new TextEncoder().encode('export notes').buffer },
    ]);
    expect(result.volume.dimensions[2]).toBe(6);
    expect(result.warnings.join('\n')).toMatch(/Ignored 1 file\(s\) that are not DICOM images: README\.txt/);
    expect(result.warnings.join('\n')).toMatch(/Skipped 1 damaged DICOM file\(s\).*broken\.dcm/);
  });

  test('a damaged file among good ones is reported by parseDicomInstances with its reason', () => {
    const series = files(volume());
    const { instances, skipped } = parseDicomInstances([...series, { name: 'half.dcm', bytes: series[0].bytes.slice(0, 300) }]);
    expect(instances).toHaveLength(6);
    expect(skipped).toEqual([expect.objectContaining({ name: 'half.dcm', kind: 'corrupt' })]);
  });
});
