/**
 * Damaged input never crashes the reader with a raw exception: every truncation point and a spread of
 * corrupted bytes in one slice end either in a volume (the damage missed anything that matters) or in an
 * RtLiverError that names the damaged file.
 */
import { RtLiverError } from '../errors';
import { writeCtSeries } from '../../../../synthetic/ct-series-writer';
import type { Volume } from '../volume';
import { readDicomSeries, type DicomFileBytes } from './index';

const source: Volume<Int16Array> = {
  voxels: new Int16Array(10 * 8 * 5).map((_, index) => (index % 500) - 250),
  dimensions: [10, 8, 5],
  spacing: [1, 1, 2],
  origin: [0, 0, 0],
  direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
};
const series = writeCtSeries(source, { seed: 'damage' }).files.map((file) => ({ name: file.name, bytes: new Uint8Array(file.bytes) }));
const victim = 2;

async function outcome(damaged: Uint8Array): Promise<'volume' | RtLiverError> {
  const input: DicomFileBytes[] = series.map((file, k) => (k === victim ? { name: file.name, bytes: damaged } : file));
  try {
    await readDicomSeries(input);
    return 'volume';
  } catch (error) {
    if (error instanceof RtLiverError) return error;
    throw new Error(`raw exception for damaged input: ${String(error)}`);
  }
}

test('every truncation of one slice ends in a specific error that names it', async () => {
  const full = series[victim].bytes;
  const cuts = Array.from({ length: 60 }, (_, n) => Math.floor((n * full.length) / 60));
  for (const cut of cuts) {
    const result = await outcome(full.slice(0, cut));
    if (result === 'volume') throw new Error(`a slice cut at ${cut} of ${full.length} bytes was read as complete`);
    expect(result.message).toContain(series[victim].name);
  }
});

test('corrupted bytes anywhere in one slice give a volume or an RtLiverError, never a crash', async () => {
  const full = series[victim].bytes;
  let state = 12345;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const outcomes = { volume: 0, error: 0 };
  for (let trial = 0; trial < 150; trial++) {
    const damaged = full.slice();
    const start = Math.floor(random() * (full.length - 8));
    for (let b = 0; b < 8; b++) damaged[start + b] = Math.floor(random() * 256);
    const result = await outcome(damaged);
    outcomes[result === 'volume' ? 'volume' : 'error']++;
  }
  expect(outcomes.volume + outcomes.error).toBe(150);
});
