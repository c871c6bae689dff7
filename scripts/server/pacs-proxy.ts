/**
 * Forwards /orthanc/... to the configured PACS with its Basic credentials, so the page stays
 * same-origin and the browser never sees the password. Failures become readable JSON errors
 * (502) instead of a browser login prompt or a hung request.
 */
import { IncomingMessage, ServerResponse, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PacsConfig {
  /** Base URL of the PACS, e.g. http://127.0.0.1:8042 (DICOMweb under /dicom-web). */
  url: string;
  username?: string;
  password?: string;
  /** Name shown in the viewer's data source list. */
  name?: string;
}

export interface PacsStatus {
  configured: boolean;
  ok: boolean;
  url?: string;
  message: string;
  hint?: string;
}

export function authorizationHeader(pacs: PacsConfig): string | undefined {
  if (!pacs.username) return undefined;
  return `Basic ${Buffer.from(`${pacs.username}:${pacs.password ?? ''}`).toString('base64')}`;
}

function describeFailure(pacs: PacsConfig, status: number | undefined, error?: Error): Omit<PacsStatus, 'configured'> {
  if (error) {
    return {
      ok: false,
      url: pacs.url,
      message: `The PACS at ${pacs.url} is not reachable (${(error as NodeJS.ErrnoException).code ?? error.message}).`,
      hint: 'Start it (for the local Orthanc: npx tsx scripts/orthanc.ts) or check RT_LIVER_PACS_URL, then reload the page.',
    };
  }
  if (status === 401 || status === 403) {
    return {
      ok: false,
      url: pacs.url,
      message: `The PACS at ${pacs.url} rejected the credentials (HTTP ${status}).`,
      hint: 'Check RT_LIVER_PACS_USER and RT_LIVER_PACS_PASSWORD and restart the server.',
    };
  }
  return { ok: false, url: pacs.url, message: `The PACS at ${pacs.url} answered HTTP ${status}.`, hint: 'Check its logs.' };
}

/** Proxies one request. `path` is the part after the /orthanc prefix, query string included. */
export function proxyToPacs(pacs: PacsConfig, path: string, req: IncomingMessage, res: ServerResponse, extraHeaders: Record<string, string>): void {
  const target = new URL(path, pacs.url.endsWith('/') ? pacs.url : `${pacs.url}/`);
  const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: target.host };
  delete headers.authorization;
  delete headers.cookie;
  delete headers.origin;
  delete headers.referer;
  const auth = authorizationHeader(pacs);
  if (auth) headers.authorization = auth;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const upstream = send(target, { method: req.method, headers, timeout: 30_000 }, (pacsResponse) => {
    const status = pacsResponse.statusCode ?? 502;
    if (status === 401 || status === 403) {
      pacsResponse.resume();
      return sendError(res, 502, describeFailure(pacs, status), extraHeaders);
    }
    const out: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(pacsResponse.headers)) {
      if (value !== undefined && !/^(www-authenticate|set-cookie|connection|keep-alive|transfer-encoding)$/i.test(key)) out[key] = value;
    }
    res.writeHead(status, { ...out, ...extraHeaders });
    pacsResponse.pipe(res);
  });
  upstream.on('timeout', () => upstream.destroy(new Error('timed out after 30 s')));
  upstream.on('error', (error) => {
    if (res.headersSent) return res.destroy(error);
    sendError(res, 502, describeFailure(pacs, undefined, error), extraHeaders);
  });
  req.pipe(upstream);
}

function sendError(res: ServerResponse, status: number, failure: Omit<PacsStatus, 'configured'>, extraHeaders: Record<string, string>): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...extraHeaders });
  res.end(JSON.stringify({ error: failure.message, hint: failure.hint }));
}

/** Asks the PACS for its DICOMweb root with our credentials: is it up, are they accepted? */
export async function checkPacs(pacs: PacsConfig | undefined, dicomWebPath = '/dicom-web'): Promise<PacsStatus> {
  if (!pacs) return { configured: false, ok: false, message: 'No PACS is configured.', hint: 'Set RT_LIVER_PACS_URL (see docs/viewer.md).' };
  const url = new URL(`${dicomWebPath.replace(/^\//, '')}/studies?limit=1`, pacs.url.endsWith('/') ? pacs.url : `${pacs.url}/`);
  const auth = authorizationHeader(pacs);
  try {
    const response = await fetch(url, { headers: auth ? { authorization: auth } : {}, signal: AbortSignal.timeout(5_000) });
    if (response.ok) return { configured: true, ok: true, url: pacs.url, message: `The PACS at ${pacs.url} is reachable.` };
    return { configured: true, ...describeFailure(pacs, response.status) };
  } catch (error) {
    const cause = (error as { cause?: Error }).cause ?? (error as Error);
    return { configured: true, ...describeFailure(pacs, undefined, cause) };
  }
}
