/**
 * Forwards the viewer's DICOMweb requests (/orthanc/dicom-web/...) to the configured PACS with its
 * Basic credentials, so the page stays same-origin and the browser never sees the password.
 *
 * What it passes on is narrow on purpose (docs/viewer.md, "PACS proxy: what it lets through"):
 * - the upstream URL is the configured DICOMweb root + a path that dicomweb-routes.ts accepted;
 * - a few request headers (Accept, Content-Type, ...), never the browser's cookies or Authorization;
 * - request bodies only for STOW-RS (multipart/related), at most maxUploadBytes, sent within
 *   uploadTimeoutMs, else 413 / 408 and the upstream request is aborted;
 * - answers with a DICOM, JSON, multipart, octet-stream or image type only (never HTML, SVG or
 *   XML from the PACS), a few response headers, and no redirects (a 3xx is an error, not followed);
 * - failures keep their meaning: credentials rejected (401/403), unreachable (502), timed out (504),
 *   too large (413), each a JSON body { error, hint, code }.
 */
import { ClientRequest, IncomingMessage, ServerResponse, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { DicomWebRoute } from './dicomweb-routes';
import { DATA_HEADERS } from './headers';
import { type PacsConfig, type ResolvedPacs, resolvePacs } from './pacs-config';
import { type ErrorBody, sendJson } from './responses';

export type { PacsConfig, ResolvedPacs } from './pacs-config';
export { resolvePacs } from './pacs-config';

export interface PacsStatus {
  configured: boolean;
  ok: boolean;
  url?: string;
  message: string;
  hint?: string;
  code?: string;
}

/** Request headers passed to the PACS; everything else (Cookie, Authorization, Origin, ...) stays here. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'accept-encoding', 'content-type', 'content-length', 'if-none-match', 'if-modified-since', 'range', 'if-range'];
/** Response headers passed back; Set-Cookie, WWW-Authenticate, Location, CORS headers and the rest are dropped. */
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-range', 'accept-ranges', 'etag', 'last-modified', 'cache-control', 'vary'];

/** Media types the browser may get from the PACS: none of them is rendered as a page or runs script. */
const SAFE_MEDIA_TYPES = new Set([
  'application/dicom',
  'application/dicom+json',
  'application/json',
  'application/octet-stream',
  'multipart/related',
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/jp2',
  'image/jpx',
  'image/jls',
  'image/jxl',
  'image/webp',
  'video/mpeg',
  'video/mp4',
]);

/** "application/dicom+json; charset=utf-8" -> "application/dicom+json". */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0].trim().toLowerCase();
}

export function isSafeContentType(contentType: string | undefined): boolean {
  return SAFE_MEDIA_TYPES.has(mediaTypeOf(contentType));
}

function credentialsRejected(pacs: ResolvedPacs, status: number): ErrorBody {
  return {
    code: 'PACS_UNAUTHORIZED',
    error: `The PACS at ${pacs.url} rejected the credentials (HTTP ${status}).`,
    hint: 'Check RT_LIVER_PACS_USER and RT_LIVER_PACS_PASSWORD and restart the server.',
  };
}

const NETWORK_CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
};

function unreachable(pacs: ResolvedPacs, error: Error): ErrorBody {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return {
      code: 'PACS_TLS',
      error: `The PACS at ${pacs.url} has a TLS certificate this server does not trust (${code}).`,
      hint: 'Give the CA certificate to node with NODE_EXTRA_CA_CERTS=/path/ca.pem, or fix the PACS certificate.',
    };
  }
  return {
    code: 'PACS_UNREACHABLE',
    error: `The PACS at ${pacs.url} is not reachable (${code || error.message}).`,
    hint: 'Start it (for the local Orthanc: npm run start:pacs, or npx tsx scripts/orthanc.ts) or check RT_LIVER_PACS_URL, then reload the page.',
  };
}

function timedOut(pacs: ResolvedPacs): ErrorBody {
  return {
    code: 'PACS_TIMEOUT',
    error: `The PACS at ${pacs.url} did not answer within ${Math.round(pacs.responseTimeoutMs / 1000)} s.`,
    hint: 'It may be busy; try again later, or raise RT_LIVER_PACS_TIMEOUT_S.',
  };
}

export function tooLarge(pacs: ResolvedPacs): ErrorBody {
  return {
    code: 'UPLOAD_TOO_LARGE',
    error: `The upload is larger than this server passes to the PACS (${formatBytes(pacs.maxUploadBytes)}).`,
    hint: 'Raise RT_LIVER_PACS_MAX_UPLOAD_MB and restart the server, or store a smaller object.',
  };
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB` : `${bytes} bytes`;
}

/**
 * Proxies one request that dicomweb-routes.ts accepted (path, method and query checked) and whose
 * origin request-guard.ts checked.
 */
export function proxyToPacs(pacs: ResolvedPacs, route: DicomWebRoute, req: IncomingMessage, res: ServerResponse): void {
  const isUpload = req.method === 'POST';
  const declaredLength = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
  if (!isUpload && (req.headers['transfer-encoding'] || (declaredLength ?? 0) > 0)) {
    return sendJson(res, 400, { code: 'UNEXPECTED_BODY', error: `A ${req.method} request has no body here.`, hint: 'Send the request without a body.' });
  }
  if (isUpload) {
    const type = mediaTypeOf(req.headers['content-type']);
    if (type !== 'multipart/related') {
      return sendJson(res, 415, {
        code: 'UNSUPPORTED_MEDIA_TYPE',
        error: `STOW-RS takes multipart/related, not ${type || 'a body without Content-Type'}.`,
        hint: 'Send the instances as multipart/related; type="application/dicom" (PS3.18 10.5).',
      });
    }
    if (declaredLength !== undefined && declaredLength > pacs.maxUploadBytes) {
      // Refused before the body is read, and before anything goes to the PACS.
      return sendJson(res, 413, tooLarge(pacs), { Connection: 'close' });
    }
  }

  const target = upstreamUrl(pacs, route);
  const headers: Record<string, string> = { 'user-agent': 'rt-liver-proxy' };
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  if (pacs.authorization) headers.authorization = pacs.authorization;

  // sending: the request goes up; answering: the PACS's answer streams down; over: nothing more to do.
  let state: 'sending' | 'answering' | 'over' = 'sending';
  let uploadTimer: NodeJS.Timeout | undefined;
  const fail = (status: number, body: ErrorBody, extra: Record<string, string> = {}) => {
    if (state === 'over') return;
    const wasAnswering = state === 'answering';
    state = 'over';
    clearTimeout(uploadTimer);
    upstream.destroy();
    // Read and drop whatever the client still sends, so that it gets to read our answer.
    req.resume();
    // Mid-answer, the status is already sent: cutting the connection is the only honest signal.
    if (wasAnswering || res.headersSent) res.destroy();
    else sendJson(res, status, body, extra);
  };

  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const upstream: ClientRequest = send(target, { method: req.method, headers }, (answer) => {
    clearTimeout(uploadTimer);
    if (state !== 'sending') return void answer.resume();
    relayAnswer(pacs, answer, res, fail, () => (state = 'answering'));
    answer.on('end', () => (state = 'over'));
  });
  // No bytes moving for responseTimeoutMs (while the PACS stores or searches, or mid-answer).
  upstream.setTimeout(pacs.responseTimeoutMs, () => fail(504, timedOut(pacs)));
  upstream.on('error', (error) => fail(502, unreachable(pacs, error)));
  // The browser went away (closed the tab, cancelled): stop the PACS request too.
  res.on('close', () => {
    if (!res.writableFinished) {
      state = 'over';
      clearTimeout(uploadTimer);
      upstream.destroy();
    }
  });

  if (!isUpload) {
    upstream.end();
    return;
  }
  if (/100-continue/i.test(String(req.headers.expect ?? ''))) res.writeContinue();
  uploadTimer = setTimeout(() => {
    fail(408, {
      code: 'UPLOAD_TIMEOUT',
      error: `The upload took longer than ${Math.round(pacs.uploadTimeoutMs / 1000)} s; nothing was stored.`,
      hint: 'Try again on a faster connection, or raise RT_LIVER_PACS_UPLOAD_TIMEOUT_S.',
    }, { Connection: 'close' });
  }, pacs.uploadTimeoutMs);
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    if (state !== 'sending') return;
    received += chunk.length;
    if (received > pacs.maxUploadBytes) return fail(413, tooLarge(pacs), { Connection: 'close' });
    if (!upstream.write(chunk)) req.pause();
  });
  upstream.on('drain', () => req.resume());
  req.on('end', () => {
    clearTimeout(uploadTimer);
    if (state === 'sending') upstream.end();
  });
  req.on('close', () => {
    if (!req.complete) fail(400, { code: 'UPLOAD_ABORTED', error: 'The upload was cut off.', hint: 'Send it again.' });
  });
}

/** The configured DICOMweb root + the checked route; asserted to stay on the configured origin. */
export function upstreamUrl(pacs: ResolvedPacs, route: DicomWebRoute): URL {
  const path = `${pacs.dicomWebRoot}/${route.segments.join('/')}`;
  // Orthanc's DICOMweb plugin splits includefield lists on a literal comma only; OHIF sends %2C.
  const query = route.query.replace(/%2C/gi, ',');
  const url = new URL(query ? `${path}?${query}` : path);
  if (url.origin !== pacs.origin || `${url.origin}${url.pathname}` !== path) {
    throw new Error(`refusing to send the PACS credentials to ${url.origin}${url.pathname}`);
  }
  return url;
}

function relayAnswer(pacs: ResolvedPacs, answer: IncomingMessage, res: ServerResponse, fail: (status: number, body: ErrorBody) => void, done: () => void): void {
  const status = answer.statusCode ?? 502;
  const drop = () => answer.resume();
  if (status === 401 || status === 403) {
    drop();
    return fail(status, credentialsRejected(pacs, status));
  }
  if (status === 413) {
    drop();
    return fail(413, { code: 'PACS_TOO_LARGE', error: `The PACS at ${pacs.url} refused the upload as too large (HTTP 413).`, hint: "Raise the PACS's request size limit, or store a smaller object." });
  }
  if (status >= 300 && status < 400 && status !== 304) {
    drop();
    // Following it would send the credentials, or the browser, wherever the PACS points.
    return fail(502, {
      code: 'PACS_REDIRECT',
      error: `The PACS at ${pacs.url} answered with a redirect (HTTP ${status}), which this server does not follow.`,
      hint: 'Point RT_LIVER_PACS_URL at the final address of the PACS (e.g. https:// instead of http://).',
    });
  }
  const hasBody = status !== 204 && status !== 304 && res.req.method !== 'HEAD';
  const contentType = answer.headers['content-type'];
  if (hasBody && contentType !== undefined && !isSafeContentType(contentType)) {
    drop();
    return fail(502, {
      code: 'PACS_CONTENT_TYPE',
      error: `The PACS at ${pacs.url} answered HTTP ${status} with ${mediaTypeOf(contentType)}, which this server does not pass on.`,
      hint: 'The proxy passes DICOM, JSON, multipart, octet-stream and image answers only; check the PACS log.',
    });
  }
  const out: Record<string, string | string[]> = { ...DATA_HEADERS };
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = answer.headers[name];
    if (value !== undefined) out[name] = value;
  }
  if (hasBody && contentType === undefined) out['content-type'] = 'application/octet-stream';
  done();
  res.writeHead(status, out);
  answer.pipe(res);
  answer.on('error', () => res.destroy());
}

/** Asks the PACS for its DICOMweb root with our credentials: is it up, are they accepted? */
export async function checkPacs(config: PacsConfig | undefined): Promise<PacsStatus> {
  if (!config) return { configured: false, ok: false, code: 'PACS_NOT_CONFIGURED', message: 'No PACS is configured.', hint: 'Set RT_LIVER_PACS_URL (see docs/viewer.md).' };
  const pacs = resolvePacs(config);
  const url = upstreamUrl(pacs, { segments: ['studies'], query: 'limit=1', allowed: ['GET'] });
  const failed = (body: ErrorBody): PacsStatus => ({ configured: true, ok: false, url: pacs.url, message: body.error, hint: body.hint, code: body.code });
  try {
    // redirect: 'manual': the credentials go to the configured origin only.
    const response = await fetch(url, { headers: pacs.authorization ? { authorization: pacs.authorization } : {}, redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    if (response.ok) return { configured: true, ok: true, url: pacs.url, message: `The PACS at ${pacs.url} is reachable.` };
    if (response.status === 401 || response.status === 403) return failed(credentialsRejected(pacs, response.status));
    if (response.status >= 300 && response.status < 400) {
      return failed({ code: 'PACS_REDIRECT', error: `The PACS at ${pacs.url} answered with a redirect (HTTP ${response.status}), which this server does not follow.`, hint: 'Point RT_LIVER_PACS_URL at the final address of the PACS.' });
    }
    return failed({ code: 'PACS_HTTP_ERROR', error: `The PACS at ${pacs.url} answered HTTP ${response.status}.`, hint: 'Check its logs, and that RT_LIVER_PACS_URL is its base URL (DICOMweb below /dicom-web).' });
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') return failed({ ...timedOut({ ...pacs, responseTimeoutMs: 5_000 }) });
    const cause = (error as { cause?: Error }).cause ?? (error as Error);
    return failed(unreachable(pacs, cause));
  }
}
