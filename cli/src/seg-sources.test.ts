/**
 * An Enhanced CT's frames all name one file: the SEG's sources read it once, not once per frame; a
 * classic series is read file by file, each once.
 */
import { join } from 'node:path';
import { readSegSourceFiles } from './seg-sources';

function countingReader() {
  const reads: string[] = [];
  return {
    reads,
    read: (path: string) => {
      reads.push(path);
      return new Uint8Array([1, 2, 3]);
    },
  };
}

test('79 frames of one Enhanced CT file: one read, one source buffer', () => {
  const reader = countingReader();
  const sources = readSegSourceFiles('/ct', Array.from({ length: 79 }, () => 'enhanced.dcm'), reader.read);
  expect(reader.reads).toEqual([join('/ct', 'enhanced.dcm')]);
  expect(sources).toHaveLength(1);
  expect(new Uint8Array(sources[0])).toEqual(new Uint8Array([1, 2, 3]));
});

test('a classic series: each file once, in slice order', () => {
  const reader = countingReader();
  readSegSourceFiles('/ct', ['b.dcm', 'a.dcm', 'c.dcm', 'a.dcm'], reader.read);
  expect(reader.reads).toEqual(['b.dcm', 'a.dcm', 'c.dcm'].map((name) => join('/ct', name)));
});

test('a view into a larger buffer is copied to a buffer of its own (the SEG writer reads whole buffers)', () => {
  const pool = new Uint8Array(100).map((_, index) => index);
  const [source] = readSegSourceFiles('/ct', ['x.dcm'], () => pool.subarray(10, 20));
  expect(source.byteLength).toBe(10);
  expect(new Uint8Array(source)[0]).toBe(10);
});
