/**
 * Node-side file discovery for the CLI: a file or a folder (walked recursively) to named byte buffers
 * that the platform-neutral core can parse.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync, type Dirent, type Stats } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { RtLiverError } from '../../../extension/src/core/errors';
import type { DicomFileBytes, DicomFileReader } from '../../../extension/src/core/dicom';
import { fileSystemError } from '../fs-errors';

/** Names that are never images: OS metadata and hidden files. */
function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini';
}

/**
 * Every regular file under `folder` (recursively, in a stable order), paths relative to it. Symbolic
 * links to files are followed; broken links and link loops are left out, each with a note in `notes`
 * (a folder copied from elsewhere often carries a few). Links to folders are not followed, so a link
 * back up the tree cannot make the walk endless.
 */
export function listFilesRecursively(folder: string, notes: string[] = []): string[] {
  const found: string[] = [];
  const broken: string[] = [];
  const walk = (directory: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(directory, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    } catch (error) {
      throw fileSystemError(error, `Cannot list the folder ${directory}`, directory);
    }
    for (const entry of entries) {
      if (isIgnoredName(entry.name)) continue;
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) found.push(path);
      else if (entry.isSymbolicLink()) {
        const target = linkTarget(path);
        if (target === 'file') found.push(path);
        else if (target !== 'folder') broken.push(`${relative(folder, path)} (${target})`);
      }
    }
  };
  walk(folder);
  if (broken.length > 0) {
    notes.push(`Left out ${broken.length} symbolic link(s) that lead to no file: ${broken.slice(0, 5).join(', ')}${broken.length > 5 ? ', ...' : ''}.`);
  }
  return found.map((path) => relative(folder, path));
}

/** What a symbolic link leads to: a file, a folder, or why it leads nowhere. */
function linkTarget(path: string): 'file' | 'folder' | string {
  try {
    const stats = statSync(path);
    return stats.isFile() ? 'file' : stats.isDirectory() ? 'folder' : 'not a regular file';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return 'a loop of links';
    let pointsTo = '?';
    try {
      pointsTo = readlinkSync(path);
    } catch {
      // named as '?'
    }
    return code === 'ENOENT' ? `points to ${pointsTo}, which does not exist` : `${code ?? 'unreadable'}`;
  }
}

/** The bytes of one file, as a view on Node's buffer (no copy). */
export function readBytes(path: string): Uint8Array {
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch (error) {
    throw fileSystemError(error, `Cannot read ${path}`, path);
  }
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
export function listInputFiles(path: string, notes: string[] = []): DicomFileReader[] {
  const stats = statOrThrow(path);
  if (stats.isFile()) return [{ name: basename(path), read: () => readBytes(path) }];
  const names = listFilesRecursively(path, notes);
  if (names.length === 0) {
    throw new RtLiverError(
      'INPUT_EMPTY_FOLDER',
      `The folder ${path} holds no files.`,
      'Point rt-liver at the folder of the CT series (DICOM files, searched recursively) or at a .nii/.nii.gz file.',
    );
  }
  return names.map((name) => ({ name, read: () => readBytes(join(path, name)) }));
}

/** The input's stats; a missing path, a broken link, a link loop or a closed folder each get their own words. */
export function statOrThrow(path: string): Stats {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint = 'Check the path (a DICOM folder or a .nii/.nii.gz file).';
    if (code === 'ELOOP') throw new RtLiverError('INPUT_LINK_LOOP', `${path} is a symbolic link in a loop.`, 'Fix or remove the link (ls -l shows where it points).');
    if (code === 'ENOENT') {
      let link: string | undefined;
      try {
        link = lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
      } catch {
        link = undefined;
      }
      if (link !== undefined) throw new RtLiverError('INPUT_DANGLING_LINK', `${path} is a symbolic link to ${link}, which does not exist.`, hint);
      throw new RtLiverError('INPUT_NOT_FOUND', `${path} does not exist.`, hint);
    }
    throw fileSystemError(error, `Cannot open the input ${path}`, path);
  }
}
