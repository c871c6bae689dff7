import { releaseMemoryNow } from './memory';

test('releaseMemoryNow frees the buffer of an array nothing refers to any more', () => {
  const holder: { data?: Uint8Array } = { data: new Uint8Array(64 * 1024 * 1024).fill(1) };
  const before = process.memoryUsage().arrayBuffers;
  expect(before).toBeGreaterThanOrEqual(64 * 1024 * 1024);
  holder.data = undefined;
  releaseMemoryNow();
  expect(process.memoryUsage().arrayBuffers).toBeLessThan(before - 60 * 1024 * 1024);
});
