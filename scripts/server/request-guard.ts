/**
 * Checks every request makes before the server answers it:
 *
 * - Host: only the names this server is served under (loopback, HOST, RT_LIVER_ALLOWED_HOSTS and,
 *   when listening on every interface, this machine's addresses). A DNS-rebinding page reaches us
 *   under its own name (Host: evil.example:3000) and is refused, so it can neither read the PACS
 *   through the proxy nor the viewer's files.
 * - Request target: origin-form only ("/path"). An absolute URL (GET http://other/ HTTP/1.1) or a
 *   path starting with "//" would otherwise be read as another host by URL parsers.
 * - Same origin, for the PACS proxy and the server's API: a request with `Sec-Fetch-Site` must say
 *   `same-origin` (or `none`, a URL typed by the user, for reads); one with `Origin` must name this
 *   server. A cross-site `<img>`, form or `no-cors` fetch carries one of them in every current
 *   browser and is refused before the PACS sees it. Requests with neither come from non-browser
 *   clients (curl, the CLI), which hold no one else's ambient authority.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface GuardRefusal {
  status: 400 | 403;
  code: string;
  error: string;
  hint: string;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const WILDCARD_HOSTS = ['0.0.0.0', '::', ''];

/** Lower case, brackets and a trailing dot removed: "[::1]" -> "::1", "LocalHost." -> "localhost". */
function normaliseHostName(name: string): string {
  return name.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/**
 * The host names a server listening on `listenHost` is reached under: loopback, the listen host
 * itself, `extra` (RT_LIVER_ALLOWED_HOSTS) and, for 0.0.0.0 / ::, the machine's own addresses.
 */
export function servedHostNames(listenHost: string | undefined, extra: string[] = []): string[] {
  const names = new Set([...LOOPBACK_NAMES, ...extra.map(normaliseHostName).filter(Boolean)]);
  const host = normaliseHostName(listenHost ?? '');
  if (WILDCARD_HOSTS.includes(host)) {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) names.add(normaliseHostName(address.address.replace(/%.*$/, '')));
    }
  } else {
    names.add(host);
  }
  return [...names];
}

/** The host name of a Host header value ("localhost:3000", "[::1]:3000"), or undefined when malformed. */
export function hostNameOf(hostHeader: string): string | undefined {
  const value = hostHeader.trim();
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::[0-9]{1,5})?$/.exec(value);
  if (bracketed) return isIP(bracketed[1]) === 6 ? normaliseHostName(bracketed[1]) : undefined;
  const named = /^([A-Za-z0-9.-]+)(?::[0-9]{1,5})?$/.exec(value);
  return named ? normaliseHostName(named[1]) : undefined;
}

export function checkHost(req: IncomingMessage, allowedNames: string[]): GuardRefusal | undefined {
  const header = req.headers.host;
  const name = header === undefined ? undefined : hostNameOf(header);
  if (name !== undefined && allowedNames.includes(name)) return undefined;
  return {
    status: 403,
    code: 'HOST_NOT_ALLOWED',
    error: header === undefined ? 'The request has no Host header.' : `This server is not served under the host name "${String(header).slice(0, 100)}".`,
    hint: 'Open the viewer at http://localhost:<port>. To serve it under another name, list that name in RT_LIVER_ALLOWED_HOSTS (comma-separated).',
  };
}

/** Origin-form targets only: "/..." but not "//..." (absolute URLs and authority forms are refused). */
export function checkTarget(target: string): GuardRefusal | undefined {
  if (target.startsWith('/') && !target.startsWith('//') && !target.startsWith('/\\')) return undefined;
  return {
    status: 400,
    code: 'BAD_TARGET',
    error: 'The request target must be a path on this server ("/..."), not an absolute URL or "//host".',
    hint: 'Request paths of this server only.',
  };
}

/**
 * Same-origin check for the proxy and the API. `write`: the request changes state (POST), for which
 * only same-origin passes (a link the user typed never POSTs).
 */
export function checkSameOrigin(req: IncomingMessage, write: boolean): GuardRefusal | undefined {
  const site = headerValue(req, 'sec-fetch-site');
  const origin = headerValue(req, 'origin');
  const refused = (what: string): GuardRefusal => ({
    status: 403,
    code: 'CROSS_ORIGIN',
    error: `Refused a ${what} request: the PACS and the server's API answer only pages of this viewer.`,
    hint: 'Use the viewer served by this server; other web pages cannot use its PACS connection.',
  });
  if (site !== undefined && site !== 'same-origin' && !(site === 'none' && !write)) return refused(`${site} (Sec-Fetch-Site)`);
  if (origin !== undefined && !isOwnOrigin(origin, req.headers.host)) return refused(`cross-origin (Origin: ${origin.slice(0, 100)})`);
  return undefined;
}

function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (!host || origin === 'null') return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
