/**
 * Errors the user can act on. Every failure that reaches a person (CLI, panel, toast) is an
 * RtLiverError: a stable `code` for programs and tests, a message that names the problem, and a
 * `hint` that says what to do about it.
 */
export class RtLiverError extends Error {
  readonly code: string;
  readonly hint?: string;

  constructor(code: string, message: string, hint?: string, options?: { cause?: unknown }) {
    super(hint ? `${message} ${hint}` : message, options);
    this.name = 'RtLiverError';
    this.code = code;
    this.hint = hint;
  }
}

export function isRtLiverError(error: unknown): error is RtLiverError {
  return error instanceof RtLiverError;
}
