/**
 * STOW-RS (PS3.18 10.5): store DICOM instances (our SEG) to a DICOMweb server with `fetch`, in a
 * browser, a worker or Node. Nothing is lost on failure: the caller's buffers are only read (never
 * transferred or detached), every failure is a StowError that names its cause and says whether a
 * retry can help, and a retry sends the same bytes, hence the same SOPInstanceUID, which a PACS
 * stores once.
 */
import { parseDicom } from 'dicom-parser';
import { RtLiverError } from '../errors';

export interface StowOptions {
  /** The DICOMweb root, e.g. "http://pacs.example/dicom-web" (without "/studies"). */
  dicomWebUrl: string;
  /** The Authorization header value, e.g. "Basic dXNlcjpwYXNz" or "Bearer <token>". */
  authorization?: string;
  /** Give up after this long; default 60 s. */
  timeoutMs?: number;
  /** POST to /studies/{uid} (the server then refuses instances of other studies); default /studies. */
  studyInstanceUID?: string;
  /** Cancels the request (e.g. the user closed the dialog). */
  signal?: AbortSignal;
  /** The fetch to use; globalThis.fetch by default. */
  fetch?: typeof fetch;
}

export interface StowResult {
  /** HTTP status of the accepted request (200 or 202). */
  status: number;
  /** SOP Instance UIDs the server confirmed storing (all that were sent, when it confirms none). */
  storedSopInstanceUIDs: string[];
  /** RetrieveURL of each stored instance, when the server gives them. */
  retrieveUrls: string[];
  /** Server warnings (e.g. coercion of attributes), as WarningReason codes and texts. */
  warnings: string[];
}

export type StowFailure = 'unreachable' | 'unauthorized' | 'too-large' | 'timeout' | 'rejected' | 'http-error' | 'cancelled';

/** A failed store. The SEG bytes are untouched: save them locally or send them again. */
export class StowError extends RtLiverError {
  readonly failure: StowFailure;
  /** True when sending the same bytes again later can succeed (server down, timeout, ...). */
  readonly retryable: boolean;
  readonly httpStatus?: number;
  /** The instances this request carried. */
  readonly sopInstanceUIDs: string[];

  constructor(
    failure: StowFailure,
    message: string,
    hint: string,
    details: { retryable: boolean; httpStatus?: number; sopInstanceUIDs: string[]; cause?: unknown },
  ) {
    super(`STOW_${failure.toUpperCase().replace(/-/g, '_')}`, message, hint, { cause: details.cause });
    this.name = 'StowError';
    this.failure = failure;
    this.retryable = details.retryable;
    this.httpStatus = details.httpStatus;
    this.sopInstanceUIDs = details.sopInstanceUIDs;
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;
const KEPT = 'The SEG is kept: save it to a file, or send it again (a retry stores the same instance, not a copy).';

export async function stowInstances(instances: ArrayBuffer[], options: StowOptions): Promise<StowResult> {
  if (instances.length === 0) throw new RtLiverError('STOW_NOTHING', 'There is nothing to store.', 'Pass at least one DICOM instance.');
  const sopInstanceUIDs = instances.map(sopInstanceUidOf);
  const url = stowUrl(options);
  const boundary = `rt-liver-${randomHex(16)}`;
  const body = multipartBody(instances, boundary);
  const headers: Record<string, string> = {
    'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
    accept: 'application/dicom+json',
  };
  if (options.authorization) headers.authorization = options.authorization;

  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onCancel = () => controller.abort();
  options.signal?.addEventListener('abort', onCancel, { once: true });
  const fail = (failure: StowFailure, message: string, hint: string, extra: { retryable: boolean; httpStatus?: number; cause?: unknown }) =>
    new StowError(failure, message, `${hint} ${KEPT}`, { ...extra, sopInstanceUIDs });

  let response: Response;
  let text: string;
  try {
    response = await (options.fetch ?? globalThis.fetch)(url, { method: 'POST', headers, body, signal: controller.signal });
    text = await response.text();
  } catch (error) {
    if (timedOut) {
      throw fail('timeout', `The PACS at ${url} did not answer within ${Math.round(timeoutMs / 1000)} s.`, 'It may be busy or a proxy may hold the request.', {
        retryable: true,
        cause: error,
      });
    }
    if (options.signal?.aborted) {
      throw fail('cancelled', 'Storing to the PACS was cancelled.', 'Nothing was confirmed stored.', { retryable: true, cause: error });
    }
    throw fail('unreachable', `Could not reach the PACS at ${url} (${networkCause(error)}).`, 'Check that it is running and that the URL is right.', {
      retryable: true,
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCancel);
  }

  const { status } = response;
  if (status === 401 || status === 403) {
    throw fail('unauthorized', `The PACS refused the credentials (HTTP ${status}).`, 'Check the user name and password (or token) for the PACS.', {
      retryable: false,
      httpStatus: status,
    });
  }
  if (status === 413) {
    throw fail(
      'too-large',
      `The PACS or a proxy in front of it refused the upload as too large (HTTP 413, ${body.byteLength} bytes).`,
      "Raise the proxy's request size limit (e.g. nginx client_max_body_size) or the PACS's.",
      { retryable: false, httpStatus: status },
    );
  }
  const outcome = parseStowResponse(text);
  if (outcome.failed.length > 0) {
    throw fail(
      'rejected',
      `The PACS rejected ${outcome.failed.length} of ${instances.length} instance(s) (HTTP ${status}): ${outcome.failed
        .map((item) => `${item.sopInstanceUID ?? 'unknown instance'}: ${describeFailureReason(item.reason)}`)
        .join('; ')}.`,
      'The PACS log says more.',
      { retryable: false, httpStatus: status },
    );
  }
  if (status !== 200 && status !== 202) {
    throw fail('http-error', `The PACS answered HTTP ${status} ${response.statusText}${snippet(text)}.`, 'Check the DICOMweb URL (it must be the root, without /studies).', {
      retryable: status >= 500,
      httpStatus: status,
    });
  }
  const stored = outcome.referenced.length > 0 ? outcome.referenced.map((item) => item.sopInstanceUID) : sopInstanceUIDs;
  const missing = sopInstanceUIDs.filter((uid) => !stored.includes(uid));
  if (missing.length > 0) {
    throw fail('rejected', `The PACS did not confirm storing ${missing.join(', ')} (HTTP ${status}).`, 'The PACS log says more.', {
      retryable: true,
      httpStatus: status,
    });
  }
  return { status, storedSopInstanceUIDs: stored, retrieveUrls: outcome.retrieveUrls, warnings: outcome.warnings };
}

function stowUrl(options: StowOptions): string {
  const root = options.dicomWebUrl.replace(/\/+$/, '');
  if (!/^https?:\/\//i.test(root)) {
    throw new RtLiverError('STOW_BAD_URL', `"${options.dicomWebUrl}" is not an http(s) URL.`, 'Give the DICOMweb root, e.g. http://localhost:8042/dicom-web.');
  }
  return options.studyInstanceUID ? `${root}/studies/${options.studyInstanceUID}` : `${root}/studies`;
}

function sopInstanceUidOf(buffer: ArrayBuffer, index: number): string {
  try {
    const uid = parseDicom(new Uint8Array(buffer), { untilTag: 'x00080018' }).string('x00080018');
    if (uid) return uid;
  } catch {
    // reported below
  }
  throw new RtLiverError('STOW_NOT_DICOM', `Instance #${index + 1} is not a DICOM Part-10 file with a SOPInstanceUID.`, 'Pass the SEG as written.');
}

/** multipart/related body: one application/dicom part per instance. A new buffer; inputs are copied. */
function multipartBody(instances: ArrayBuffer[], boundary: string): Uint8Array<ArrayBuffer> {
  const encoder = new TextEncoder();
  const head = encoder.encode(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
  const between = encoder.encode('\r\n');
  const tail = encoder.encode(`--${boundary}--\r\n`);
  const total = instances.reduce((sum, instance) => sum + head.byteLength + instance.byteLength + between.byteLength, tail.byteLength);
  const body = new Uint8Array(total);
  let offset = 0;
  for (const instance of instances) {
    body.set(head, offset);
    offset += head.byteLength;
    body.set(new Uint8Array(instance), offset);
    offset += instance.byteLength;
    body.set(between, offset);
    offset += between.byteLength;
  }
  body.set(tail, offset);
  return body;
}

interface StowOutcome {
  referenced: Array<{ sopInstanceUID: string }>;
  failed: Array<{ sopInstanceUID?: string; reason?: number }>;
  retrieveUrls: string[];
  warnings: string[];
}

type DicomJson = Record<string, { vr?: string; Value?: unknown[] }>;

/** The Store Instances Response Module (PS3.18 10.5.3) from a DICOM JSON body; empty when there is none. */
export function parseStowResponse(text: string): StowOutcome {
  const outcome: StowOutcome = { referenced: [], failed: [], retrieveUrls: [], warnings: [] };
  if (!text.trim()) return outcome;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON (an HTML error page, XML): the status code decides.
    return outcome;
  }
  const dataset = (Array.isArray(json) ? json[0] : json) as DicomJson | undefined;
  if (!dataset || typeof dataset !== 'object') return outcome;
  const items = (tag: string) => (dataset[tag]?.Value ?? []) as DicomJson[];
  const value = <T>(item: DicomJson, tag: string) => item[tag]?.Value?.[0] as T | undefined;
  for (const item of items('00081199')) {
    const uid = value<string>(item, '00081155');
    if (uid) outcome.referenced.push({ sopInstanceUID: uid });
    const url = value<string>(item, '00081190');
    if (url) outcome.retrieveUrls.push(url);
    const warning = value<number>(item, '00081196');
    if (warning !== undefined) outcome.warnings.push(`${uid}: warning 0x${warning.toString(16).toUpperCase()}`);
  }
  for (const item of items('00081198')) {
    outcome.failed.push({ sopInstanceUID: value<string>(item, '00081155'), reason: value<number>(item, '00081197') });
  }
  const retrieveUrl = value<string>(dataset, '00081190');
  if (retrieveUrl && outcome.retrieveUrls.length === 0) outcome.retrieveUrls.push(retrieveUrl);
  return outcome;
}

/** FailureReason codes of PS3.18 Table 10.5.3-3 (and the common PS3.4 ones). */
function describeFailureReason(reason: number | undefined): string {
  const known: Record<number, string> = {
    0xa700: 'out of resources',
    0xa900: 'data set does not match SOP class',
    0xc000: 'cannot understand',
    0xc122: 'referenced transfer syntax not supported',
    0x0110: 'processing failure',
    0x0122: 'SOP class not supported',
    0x0111: 'duplicate SOP instance',
  };
  if (reason === undefined) return 'no reason given';
  const hex = `0x${reason.toString(16).toUpperCase().padStart(4, '0')}`;
  return known[reason] ? `${known[reason]} (${hex})` : `failure ${hex}`;
}

function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code === 'ENOTFOUND') return 'host not found';
  if (cause?.code) return cause.code;
  return error instanceof Error ? error.message : String(error);
}

function snippet(text: string): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  return clean ? `: ${clean.slice(0, 200)}` : '';
}

function randomHex(bytes: number): string {
  const values = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(values);
  return Array.from(values, (value) => value.toString(16).padStart(2, '0')).join('');
}
