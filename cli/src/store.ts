/**
 * `segment --store`: the SEG to the PACS that the viewer's server uses (RT_LIVER_PACS_URL, _USER,
 * _PASSWORD; DICOMweb at <url>/dicom-web), by the core's STOW-RS client. Its failures are worded as
 * the server words them (scripts/server/pacs-proxy.ts), so a user sees one message for one problem.
 *
 * Idempotence: the SEG's UIDs are derived from what it holds (source series, model, mask), so the
 * same result stored again, by a retry here or by running the command again, is the same instance
 * and the PACS keeps one.
 */
import { createHash } from 'node:crypto';
import { RtLiverError } from '../../extension/src/core/errors';
import type { StowError, StowResult } from '../../extension/src/core/seg';

export interface PacsTarget {
  url: string;
  dicomWebUrl: string;
  authorization?: string;
}

/**
 * The configured PACS, or an error saying how to configure it (checked before any work). Read as the
 * server reads it (scripts/server/pacs-config.ts): the URL normalized, DICOMweb at
 * RT_LIVER_PACS_DICOMWEB_PATH (default /dicom-web) below it, no credentials inside the URL.
 */
export function pacsFromEnvironment(env: NodeJS.ProcessEnv = process.env): PacsTarget {
  const given = env.RT_LIVER_PACS_URL?.trim();
  if (!given) {
    throw new RtLiverError(
      'PACS_NOT_CONFIGURED',
      '--store sends the SEG to the PACS named by RT_LIVER_PACS_URL, which is not set.',
      'Set RT_LIVER_PACS_URL (and RT_LIVER_PACS_USER, RT_LIVER_PACS_PASSWORD), as for the viewer (docs/viewer.md).',
    );
  }
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new RtLiverError('PACS_BAD_URL', `RT_LIVER_PACS_URL=${given} is not a URL.`, 'Use the PACS base URL, e.g. http://127.0.0.1:8042.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RtLiverError('PACS_BAD_URL', `RT_LIVER_PACS_URL must be http:// or https://, not ${url.protocol}.`, 'Use the PACS base URL, e.g. https://pacs.example.org.');
  }
  if (url.username || url.password) {
    throw new RtLiverError('PACS_BAD_URL', 'RT_LIVER_PACS_URL holds a user name or password.', 'Give them in RT_LIVER_PACS_USER and RT_LIVER_PACS_PASSWORD instead, and remove them from the URL.');
  }
  const basePath = url.pathname.replace(/\/+$/, '');
  const dicomWebPath = (env.RT_LIVER_PACS_DICOMWEB_PATH || '/dicom-web').replace(/\/+$/, '');
  const user = env.RT_LIVER_PACS_USER;
  const authorization = user ? `Basic ${Buffer.from(`${user}:${env.RT_LIVER_PACS_PASSWORD ?? ''}`).toString('base64')}` : undefined;
  return { url: url.href.replace(/\/$/, ''), dicomWebUrl: `${url.origin}${basePath}${dicomWebPath}`, authorization };
}

/** A 2.25 UID from a hash of `parts`: the same parts give the same UID. */
export function uidFromContent(...parts: Array<string | Uint8Array>): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part);
    hash.update('\0');
  }
  const bytes = hash.digest().subarray(0, 16);
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return `2.25.${value.toString()}`;
}

/** How long one STOW request may take (the SEG is small; the PACS may be slow to index it). */
const STORE_TIMEOUT_S = 120;
/** The wait before retry n is n times this (1 s, 2 s, ...): a busy PACS gets time to recover, a user is not kept long. */
const RETRY_BACKOFF_STEP_MS = 1000;

/** What the user keeps when a store fails, for the message. */
function keptNote(segPath: string | undefined): string {
  return segPath
    ? `The SEG is kept in ${segPath}; running the command again stores the same instance (no duplicate).`
    : 'Add --out seg.dcm to keep the SEG in a file; running the command again stores the same instance (no duplicate).';
}

function networkCode(error: StowError): string {
  const cause = error.cause as { cause?: { code?: string; message?: string }; message?: string } | undefined;
  return cause?.cause?.code ?? cause?.cause?.message ?? cause?.message ?? 'no answer';
}

/** A StowError in the server's words, with what was kept. */
export function describeStoreFailure(error: StowError, pacs: PacsTarget, segPath: string | undefined): RtLiverError {
  const kept = keptNote(segPath);
  if (error.failure === 'unreachable') {
    const code = networkCode(error);
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
      return new RtLiverError(
        'PACS_TLS',
        `The PACS at ${pacs.url} has a TLS certificate this server does not trust (${code}).`,
        `Give the CA certificate to node with NODE_EXTRA_CA_CERTS=/path/ca.pem, or fix the PACS certificate. ${kept}`,
        { cause: error },
      );
    }
    return new RtLiverError(
      'PACS_UNREACHABLE',
      `The PACS at ${pacs.url} is not reachable (${code}).`,
      `Start it (for the local Orthanc: npm run start:pacs, or npx tsx scripts/orthanc.ts) or check RT_LIVER_PACS_URL, then run again. ${kept}`,
      { cause: error },
    );
  }
  if (error.failure === 'timeout') {
    return new RtLiverError('PACS_TIMEOUT', `The PACS at ${pacs.url} did not answer within ${STORE_TIMEOUT_S} s.`, `It may be busy; try again later. ${kept}`, { cause: error });
  }
  if (error.failure === 'unauthorized') {
    return new RtLiverError(
      'PACS_UNAUTHORIZED',
      `The PACS at ${pacs.url} rejected the credentials (HTTP ${error.httpStatus}).`,
      `Check RT_LIVER_PACS_USER and RT_LIVER_PACS_PASSWORD and run again. ${kept}`,
      { cause: error },
    );
  }
  return new RtLiverError(`PACS_${error.failure.toUpperCase().replace(/-/g, '_')}`, `Storing the SEG failed: ${error.message}`, kept, { cause: error });
}

export interface StoreOptions {
  attempts?: number;
  /** Wait before retry n (1-based), ms. */
  backoffMs?: (attempt: number) => number;
  fetch?: typeof fetch;
}

/**
 * Stores the SEG, retrying failures that a retry can cure (PACS restarting, time-outs) with the same
 * bytes, hence the same SOP Instance UID.
 */
export async function storeSeg(bytes: ArrayBuffer, studyInstanceUID: string, pacs: PacsTarget, segPath: string | undefined, options: StoreOptions = {}): Promise<StowResult> {
  const { stowInstances, StowError: StowErrorClass } = await import('../../extension/src/core/seg');
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await stowInstances([bytes], {
        dicomWebUrl: pacs.dicomWebUrl,
        authorization: pacs.authorization,
        studyInstanceUID,
        fetch: options.fetch,
        timeoutMs: STORE_TIMEOUT_S * 1000,
      });
    } catch (error) {
      if (!(error instanceof StowErrorClass)) throw error;
      if (!error.retryable || error.failure === 'unreachable' || attempt >= attempts) throw describeStoreFailure(error, pacs, segPath);
      await new Promise((resolve) => setTimeout(resolve, (options.backoffMs ?? ((n) => RETRY_BACKOFF_STEP_MS * n))(attempt)));
    }
  }
}
