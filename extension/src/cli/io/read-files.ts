/**
 * Node-side file discovery for the CLI: a file or a folder (walked recursively) to named byte buffers
 * that the platform-neutral core can parse.
 */
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { RtLiverError } from '../../core/errors';
import type { DicomFileBytes, DicomFileReader } from '../../core/dicom';

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
  return listInputFiles(path).map(({ name, read }) => ({ name, bytes: read() }));
}

/**
 * Like readInputFiles, but each file is read when the reader asks for it (and again to decode its
 * pixels): the series reader then holds one file's bytes at a time, not the whole series'.
 */
export function listInputFiles(path: string): DicomFileReader[] {
  const stats = statOrThrow(path);
  if (stats.isFile()) return [{ name: basename(path), read: () => readBytes(path) }];
  const names = listFilesRecursively(path);
  if (names.length === 0) {
    throw new RtLiverError(
      'INPUT_EMPTY_FOLDER',
      `The folder ${path} holds no files.`,
      'Point rt-liver at the folder of the CT series (DICOM files, searched recursively) or at a .nii/.nii.gz file.',
    );
  }
  return names.map((name) => ({ name, read: () => readBytes(join(path, name)) }));
}

export function statOrThrow(path: string): Stats {
  try {
    return statSync(path);
  } catch {
    throw new RtLiverError('INPUT_NOT_FOUND', `${path} does not exist.`, 'Check the path (a DICOM folder or a .nii/.nii.gz file).');
  }
}
