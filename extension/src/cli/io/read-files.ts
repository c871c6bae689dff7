/**
 * Node-side file discovery for the CLI: a file or a folder (walked recursively) to named byte buffers
 * that the platform-neutral core can parse.
 */
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { RtLiverError } from '../../core/errors';
import type { DicomFileBytes } from '../../core/dicom';

/** Names that are never images: OS metadata and hidden files. */
function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini';
}

/** Every regular file under `folder` (recursively, in a stable order), paths relative to it. */
export function listFilesRecursively(folder: string): string[] {
  const found: string[] = [];
  const walk = (directory: string) => {
    const entries = readdirSync(directory, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (isIgnoredName(entry.name)) continue;
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() || (entry.isSymbolicLink() && statSync(path).isFile())) found.push(path);
    }
  };
  walk(folder);
  return found.map((path) => relative(folder, path));
}

/** The bytes of one file, as a view on Node's buffer (no copy). */
export function readBytes(path: string): Uint8Array {
  const buffer = readFileSync(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** A folder's files (recursively) or a single file, named by their path relative to the folder. */
export function readInputFiles(path: string): DicomFileBytes[] {
  const stats = statOrThrow(path);
  if (stats.isFile()) return [{ name: basename(path), bytes: readBytes(path) }];
  const names = listFilesRecursively(path);
  if (names.length === 0) {
    throw new RtLiverError(
      'INPUT_EMPTY_FOLDER',
      `The folder ${path} holds no files.`,
      'Point rt-liver at the folder of the CT series (DICOM files, searched recursively) or at a .nii/.nii.gz file.',
    );
  }
  return names.map((name) => ({ name, bytes: readBytes(join(path, name)) }));
}

export function statOrThrow(path: string): Stats {
  try {
    return statSync(path);
  } catch {
    throw new RtLiverError('INPUT_NOT_FOUND', `${path} does not exist.`, 'Check the path (a DICOM folder or a .nii/.nii.gz file).');
  }
}
