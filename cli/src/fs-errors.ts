/**
 * File-system failures (Node's errno errors) as RtLiverErrors: what happened to which path, and what
 * to do about it, so that the command exits 2 with a sentence instead of a stack trace.
 */
import { RtLiverError } from '../../extension/src/core/errors';

/** A Node system error (ENOENT, ENOSPC, ...), as fs calls throw them. */
export function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && /^E[A-Z0-9]+$/.test((error as NodeJS.ErrnoException).code!);
}

const CAUSES: Record<string, { what: string; hint: (path: string) => string }> = {
  ENOENT: { what: 'a folder on the way does not exist', hint: () => 'Check the path, or create the folder first (mkdir -p).' },
  ENOTDIR: { what: 'a part of the path is a file, not a folder', hint: () => 'Check the path.' },
  EISDIR: { what: 'it is a folder', hint: () => 'Give a file name.' },
  ELOOP: { what: 'it goes through a loop of symbolic links', hint: () => 'Fix or remove the symbolic links (ls -l shows where they point).' },
  EACCES: { what: 'permission denied', hint: () => 'Choose a place you may write to, or fix the permissions.' },
  EPERM: { what: 'operation not permitted', hint: () => 'Choose a place you may write to, or fix the permissions.' },
  EROFS: { what: 'the file system is read-only', hint: () => 'Write to another place.' },
  ENOSPC: { what: 'the disk is full', hint: () => 'Free some space there or write to another disk.' },
  EDQUOT: { what: 'the disk quota is exceeded', hint: () => 'Free some space there or write to another disk.' },
  EFBIG: { what: 'the file is too large for this file system', hint: () => 'Write to another disk.' },
  ENAMETOOLONG: { what: 'the name is too long', hint: () => 'Choose a shorter name or path.' },
  EEXIST: { what: 'it already exists', hint: () => 'Pass --force to replace it, or choose another name.' },
  EMFILE: { what: 'too many files are open', hint: () => 'Raise the limit (ulimit -n) and run again.' },
  EIO: { what: 'an input/output error (a failing disk or network share)', hint: () => 'Check the disk (dmesg) and run again.' },
  EXDEV: { what: 'it lies on another file system', hint: () => 'Write to a folder on the same disk.' },
  ERR_FS_FILE_TOO_LARGE: { what: 'the file is larger than 2 GB, more than Node can read at once', hint: () => 'Split or compress the image (e.g. NIfTI .nii.gz).' },
};

/**
 * `action` says what was being done: "Cannot write the mask liver.nii.gz", "Cannot read ct.dcm".
 * Errors that are already RtLiverErrors pass through.
 */
export function fileSystemError(error: unknown, action: string, path: string): RtLiverError {
  if (error instanceof RtLiverError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'unknown';
  const known = CAUSES[code];
  const detail = known ? `${known.what} (${code})` : `${(error as Error | undefined)?.message ?? String(error)}`;
  return new RtLiverError(`FS_${code}`, `${action}: ${detail}.`, known ? known.hint(path) : 'Check the path and the disk, then run again.', { cause: error });
}
