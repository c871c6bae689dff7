/**
 * The project's real test data lives outside the repository, in ../shared/data (read-only; CI has it).
 * Tests that use it call `sharedDataPath(...)`; when the data is absent they are skipped with a
 * message that says so, instead of passing silently.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const SHARED_DATA_ROOT = resolve(
  process.env.RT_LIVER_SHARED_DATA ?? join(__dirname, '..', '..', '..', 'shared', 'data'),
);

/** Absolute path of a file or folder under ../shared/data, or undefined when it is not there. */
export function sharedDataPath(...parts: string[]): string | undefined {
  const path = join(SHARED_DATA_ROOT, ...parts);
  return existsSync(path) ? path : undefined;
}

/**
 * `describe` when the shared data is present, otherwise `describe.skip` with a console warning that
 * names the missing folder, so a skipped suite is visible in the log.
 */
export function describeWithSharedData(
  name: string,
  parts: string[],
  body: (path: string) => void,
): void {
  const path = sharedDataPath(...parts);
  if (path) {
    describe(name, () => body(path));
  } else {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED "${name}": ${join(SHARED_DATA_ROOT, ...parts)} is absent (set RT_LIVER_SHARED_DATA).`);
    describe.skip(name, () => body(''));
  }
}
