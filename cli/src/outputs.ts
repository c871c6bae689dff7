/**
 * The files a command writes (--mask, --out): checked before any work is done, written whole or not
 * at all.
 *
 * - Before reading the input: each output's folder exists and is a folder; an output is never the
 *   input (or a file inside the input folder), never a folder, never a dangling or looping link,
 *   and an existing file is replaced only with --force. Two outputs never share one file.
 * - Each file is written to a temporary file in the same folder (same file system, so the rename
 *   is atomic), flushed, and renamed to its name only once every output has been written. A full
 *   disk or any other failure removes the temporary files: nothing half-written is ever left under a
 *   final name, and no output is written when a later one fails.
 */
import * as fs from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { RtLiverError } from '../../extension/src/core/errors';
import { fileSystemError } from './fs-errors';

export interface OutputRequest {
  /** The option that names it, for messages: "--mask", "--out". */
  option: string;
  path: string;
}

export interface PlannedOutput extends OutputRequest {
  /** Where the bytes go: the path, or the file an existing symbolic link points to. */
  target: string;
  /** There is a file under that name already (to be replaced: --force was given). */
  replaces: boolean;
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return fs.realpathSync(path);
  } catch {
    return undefined;
  }
}

function isInside(child: string, folder: string): boolean {
  return child === folder || child.startsWith(folder.endsWith(sep) ? folder : `${folder}${sep}`);
}

/** Checks one output path; throws an RtLiverError naming the option and what to do. */
function planOne(request: OutputRequest, inputPath: string, force: boolean): PlannedOutput {
  const { option, path } = request;
  if (path.endsWith('/') || path.endsWith(sep)) {
    throw new RtLiverError('OUTPUT_IS_FOLDER', `${option} ${path} names a folder.`, 'Give a file name, e.g. liver.nii.gz or liver-seg.dcm.');
  }
  const folder = dirname(resolve(path));
  let folderStats: fs.Stats;
  try {
    folderStats = fs.statSync(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new RtLiverError('OUTPUT_FOLDER_MISSING', `${option} ${path}: the folder ${folder} does not exist.`, `Create it first (mkdir -p ${folder}) or choose another folder.`);
    }
    throw fileSystemError(error, `${option} ${path}: cannot use the folder ${folder}`, folder);
  }
  if (!folderStats.isDirectory()) {
    throw new RtLiverError('OUTPUT_FOLDER_MISSING', `${option} ${path}: ${folder} is not a folder.`, 'Check the path.');
  }
  try {
    fs.accessSync(folder, fs.constants.W_OK);
  } catch (error) {
    throw fileSystemError(error, `${option} ${path}: cannot write in ${folder}`, folder);
  }

  let target = resolve(path);
  let replaces = false;
  let linkStats: fs.Stats | undefined;
  try {
    linkStats = fs.lstatSync(path);
  } catch {
    linkStats = undefined; // a new file
  }
  if (linkStats?.isSymbolicLink()) {
    let pointsTo = '?';
    try {
      pointsTo = fs.readlinkSync(path);
    } catch {
      // named as '?'
    }
    try {
      target = fs.realpathSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') {
        throw new RtLiverError('OUTPUT_LINK_LOOP', `${option} ${path} is a symbolic link in a loop (it points to ${pointsTo}).`, 'Remove the link or give another name.');
      }
      throw new RtLiverError(
        'OUTPUT_DANGLING_LINK',
        `${option} ${path} is a symbolic link to ${pointsTo}, which does not exist.`,
        'Remove the link, point it at a file in an existing folder, or give another name.',
      );
    }
    linkStats = fs.statSync(target);
  }
  if (linkStats) {
    if (linkStats.isDirectory()) {
      throw new RtLiverError('OUTPUT_IS_FOLDER', `${option} ${path} is a folder.`, 'Give a file name inside it, e.g. liver.nii.gz or liver-seg.dcm.');
    }
    const input = realpathOrUndefined(inputPath);
    const inputStats = input ? fs.statSync(input) : undefined;
    const sameFile = inputStats && linkStats.ino === inputStats.ino && linkStats.dev === inputStats.dev;
    if (sameFile || (input && inputStats?.isDirectory() && isInside(target, input))) {
      throw new RtLiverError(
        'OUTPUT_IS_INPUT',
        `${option} ${path} is ${sameFile ? 'the input itself' : `a file of the input folder ${inputPath}`}; writing it would destroy the input.`,
        'Choose another name for the output.',
      );
    }
    if (!force) {
      throw new RtLiverError('OUTPUT_EXISTS', `${option} ${path} exists already.`, 'Pass --force to replace it, or choose another name.');
    }
    replaces = true;
  }
  return { ...request, target, replaces };
}

/** Plans every output; refuses the lot before any work when one of them cannot be written. */
export function planOutputs(requests: OutputRequest[], inputPath: string, options: { force?: boolean } = {}): PlannedOutput[] {
  const planned = requests.map((request) => planOne(request, inputPath, options.force === true));
  for (let a = 0; a < planned.length; a++) {
    for (let b = a + 1; b < planned.length; b++) {
      if (planned[a].target === planned[b].target) {
        throw new RtLiverError('OUTPUT_SAME_FILE', `${planned[a].option} and ${planned[b].option} name the same file (${planned[a].path}).`, 'Give each output its own name.');
      }
    }
  }
  return planned;
}

/** The fs calls used to write; tests replace them to simulate a full disk. */
export type OutputIo = Pick<typeof fs, 'openSync' | 'writeSync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'linkSync' | 'unlinkSync'>;

interface Staged {
  output: PlannedOutput;
  temporary: string;
}

function removeQuietly(io: OutputIo, path: string): void {
  try {
    io.unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Writes each output to a temporary file beside it; commit() then gives them their names. On any
 * failure (here or in commit) the temporary files are removed and an RtLiverError names the file.
 */
export class OutputWriter {
  private readonly staged: Staged[] = [];

  constructor(private readonly io: OutputIo = fs) {}

  stage(output: PlannedOutput, bytes: Uint8Array): void {
    const temporary = join(dirname(output.target), `.${basename(output.target)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
    let fd: number | undefined;
    try {
      fd = this.io.openSync(temporary, 'wx', 0o666);
      let offset = 0;
      while (offset < bytes.byteLength) offset += this.io.writeSync(fd, bytes, offset, bytes.byteLength - offset);
      this.io.fsyncSync(fd);
      this.io.closeSync(fd);
      fd = undefined;
    } catch (error) {
      if (fd !== undefined) {
        try {
          this.io.closeSync(fd);
        } catch {
          // closing a failed file
        }
      }
      removeQuietly(this.io, temporary);
      this.abort();
      throw fileSystemError(error, `Cannot write ${output.option} ${output.path} (nothing was written under that name)`, output.path);
    }
    this.staged.push({ output, temporary });
  }

  /** Renames every staged file to its name. A file that appeared meanwhile is not replaced without --force. */
  commit(): void {
    for (let index = 0; index < this.staged.length; index++) {
      const { output, temporary } = this.staged[index];
      try {
        if (output.replaces) {
          this.io.renameSync(temporary, output.target);
        } else {
          // link() fails when the name exists, so a file made meanwhile is never replaced.
          try {
            this.io.linkSync(temporary, output.target);
            removeQuietly(this.io, temporary);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw error;
            this.io.renameSync(temporary, output.target); // file systems without hard links
          }
        }
      } catch (error) {
        this.staged.slice(index).forEach((left) => removeQuietly(this.io, left.temporary));
        this.staged.length = 0;
        throw fileSystemError(error, `Cannot write ${output.option} ${output.path}`, output.path);
      }
    }
    this.staged.length = 0;
  }

  /** Removes the temporary files of a run that will not be committed. */
  abort(): void {
    for (const { temporary } of this.staged) removeQuietly(this.io, temporary);
    this.staged.length = 0;
  }
}
