/**
 * Errors the user can act on, as data. Every failure that reaches a person (CLI, panel, toast) is an
 * RtLiverError with
 *  - `code`: stable, UPPER_SNAKE_CASE, for programs and tests (e.g. DICOM_MISSING_SLICE, SEG_GRID_MISMATCH);
 *  - `message`: what went wrong, naming the files or values involved (no advice in it);
 *  - `hint`: what to do about it;
 *  - `cause`: the underlying error, when there is one.
 * Each front end renders them (`errorText` for one line; the panel shows the hint on a line of its own),
 * so no caller has to take a message apart.
 */
export interface ErrorData {
  code: string;
  message: string;
  hint?: string;
}

export class RtLiverError extends Error {
  readonly code: string;
  readonly hint?: string;

  constructor(code: string, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RtLiverError';
    this.code = code;
    this.hint = hint;
  }

  /** The error as plain data (a worker message, `--json` output): code, message, hint. */
  toJSON(): ErrorData {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

export function isRtLiverError(error: unknown): error is RtLiverError {
  return error instanceof RtLiverError;
}

/** One line for a terminal or a notification: what went wrong, then what to do (any thrown value). */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const hint = (error as { hint?: unknown }).hint;
  return typeof hint === 'string' && hint ? `${error.message} ${hint}` : error.message;
}
