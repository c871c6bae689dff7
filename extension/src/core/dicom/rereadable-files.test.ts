/**
 * Files that can be read again (the CLI's files on disk) are parsed and let go; each image's pixels are
 * read again when decoded. The volume must be the same as from bytes held in memory, every image read
 * exactly twice, and a file that changes in between must stop the read with a clear error.
 */
import { writeCtSeries } from '../../../../synthetic/ct-series-writer';
import type { Vec3, Volume } from '../volume';
import { readDicomSeries, type DicomFileReader } from './index';

function volume(dimensions: Vec3 = [9, 7, 5]): Volume<Int16Array> {
  const voxels = new Int16Array(dimensions[0] * dimensions[1] * dimensions[2]).map((_, index) => (index * 37) % 700 - 300);
  return { voxels, dimensions, spacing: [0.8, 0.8, 2], origin: [-3, 4, 10], direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };
}

function readers(files: { name: string; bytes: ArrayBuffer }[], reads: Map<string, number>): DicomFileReader[] {
  return files.map((file) => ({
    name: file.name,
    read: () => {
      reads.set(file.name, (reads.get(file.name) ?? 0) + 1);
      return new Uint8Array(file.bytes.slice(0)); // a fresh buffer each time, as a file read gives
    },
  }));
}

test('re-readable files give the same volume as bytes in memory, each image read twice', async () => {
  const source = volume();
  const files = writeCtSeries(source, { seed: 'reread', instanceNumbers: 'shuffled' }).files;
  const fromBytes = await readDicomSeries(files.map((file) => ({ name: file.name, bytes: file.bytes })));
  const reads = new Map<string, number>();
  const fromReaders = await readDicomSeries(readers(files, reads));
  expect(Array.from(fromReaders.volume.voxels)).toEqual(Array.from(source.voxels));
  expect(fromReaders.volume.dimensions).toEqual(fromBytes.volume.dimensions);
  expect(fromReaders.volume.origin).toEqual(fromBytes.volume.origin);
  expect(fromReaders.slices.map((slice) => slice.fileName)).toEqual(fromBytes.slices.map((slice) => slice.fileName));
  expect([...reads.values()]).toEqual(files.map(() => 2));
});

test.each([
  ['cut short', 400],
  ['replaced by another image', undefined],
])('a file that changes between header and pixels (%s) stops the read and names the file', async (_, length) => {
  const files = writeCtSeries(volume(), { seed: 'changed' }).files;
  const other = writeCtSeries(volume([9, 7, 5]), { seed: 'someone-else' }).files[0];
  const reads = new Map<string, number>();
  const sources = readers(files, reads);
  const victim = sources[2];
  const original = victim.read;
  sources[2] = { name: victim.name, read: () => ((reads.get(victim.name) ?? 0) === 0 ? original() : new Uint8Array(other.bytes.slice(0, length))) };
  await expect(readDicomSeries(sources)).rejects.toMatchObject({
    code: 'DICOM_FILE_CHANGED',
    message: expect.stringContaining(victim.name),
    hint: expect.stringMatching(/unchanged/),
  });
});

test('a file that disappears before its pixels are decoded gets the same error', async () => {
  const files = writeCtSeries(volume(), { seed: 'gone' }).files;
  const sources = readers(files, new Map());
  let first = true;
  const victim = sources[1];
  sources[1] = {
    name: victim.name,
    read: () => {
      if (first) {
        first = false;
        return victim.read();
      }
      throw new Error('ENOENT: no such file or directory');
    },
  };
  await expect(readDicomSeries(sources)).rejects.toMatchObject({ code: 'DICOM_FILE_CHANGED', message: expect.stringContaining('ENOENT') });
});
