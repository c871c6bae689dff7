/**
 * Which requests the PACS proxy passes on: only the DICOMweb routes a viewer uses (QIDO-RS search,
 * WADO-RS retrieve, STOW-RS store; PS3.18 10.4-10.6, 8.3), below the PACS's DICOMweb root. Everything
 * else (Orthanc's REST API /system, /tools/*, /patients, /instances, the Explorer /app/..., the
 * DICOMweb plugin's /servers, absolute URLs) is refused here, before any request leaves the server.
 *
 * The check runs on the raw request target, never on a decoded or URL-normalised one: the WHATWG
 * URL parser turns `\` into `/`, resolves `..` and `%2e%2e`, and `//host` into another host, so a
 * check after parsing would pass what the PACS (or the parser) later reads differently. A DICOMweb
 * path needs only letters, digits, `.`, `,` and `-` (UIDs, keywords, frame lists, tags), so any other
 * character, `%` included, is refused rather than decoded: no encoding (%2F, %5C, %2E, %252F, UTF-8
 * overlongs) can reach the PACS.
 */

/** Where the browser sees the PACS's DICOMweb root (app-config.ts builds the data source on it). */
export const PACS_PROXY_PREFIX = '/orthanc';
export const PROXY_DICOMWEB_ROOT = `${PACS_PROXY_PREFIX}/dicom-web`;

/** What a route may be asked: read (GET/HEAD) and, for /studies and /studies/{uid}, store (POST). */
export interface DicomWebRoute {
  /** Path segments below the DICOMweb root, each checked: ["studies", "1.2.3", "series"]. */
  segments: string[];
  /** Query string without "?", checked; "" when none. */
  query: string;
  /** Methods this route answers. */
  allowed: ('GET' | 'HEAD' | 'POST')[];
}

export interface RouteRefusal {
  status: 400 | 404 | 405;
  code: string;
  error: string;
  hint: string;
  /** For 405: the Allow header. */
  allow?: string;
}

/** Longest request target the proxy takes; QIDO with a list of UIDs stays well below. */
export const MAX_TARGET_LENGTH = 8192;
const MAX_UID_LENGTH = 64;
const MAX_FRAME_LIST_LENGTH = 4096;
const MAX_BULK_DEPTH = 8;

const PATH_CHARACTERS = /^[A-Za-z0-9.,\-/]*$/;
const UID = /^[0-9]+(\.[0-9]+)*$/;
const FRAME_LIST = /^[1-9][0-9]{0,8}(,[1-9][0-9]{0,8})*$/;
/** A bulk data path: tags (8 hex digits) and sequence item indexes, as Orthanc writes BulkDataURIs. */
const BULK_SEGMENT = /^([0-9A-Fa-f]{8}|[0-9]{1,6})$/;
/** QIDO keys: keywords, tags, dotted sequence paths, includefield, limit, offset, fuzzymatching. */
const QUERY_KEY = /^[A-Za-z0-9_.]{1,128}$/;

const READ: DicomWebRoute['allowed'] = ['GET', 'HEAD'];
const READ_AND_STORE: DicomWebRoute['allowed'] = ['GET', 'HEAD', 'POST'];
const RENDERED = ['rendered', 'thumbnail'];

const isUid = (segment: string | undefined) => segment !== undefined && segment.length <= MAX_UID_LENGTH && UID.test(segment);
const isFrameList = (segment: string | undefined) => segment !== undefined && segment.length <= MAX_FRAME_LIST_LENGTH && FRAME_LIST.test(segment);

/**
 * The methods of a DICOMweb path (segments below the root), or undefined when it is not one the
 * proxy passes: studies[/{uid}[/series[/{uid}[/instances[/{uid}[/frames/{list}|/bulk/...]]]]]] with
 * metadata, rendered and thumbnail at each level, and the flat QIDO /series and /instances.
 */
export function methodsOf(segments: string[]): DicomWebRoute['allowed'] | undefined {
  const [level1, study, level3, series, level5, instance, level7, frames, level9] = segments;
  const n = segments.length;
  if (n === 1) return level1 === 'studies' ? READ_AND_STORE : level1 === 'series' || level1 === 'instances' ? READ : undefined;
  if (level1 !== 'studies' || !isUid(study)) return undefined;
  if (n === 2) return READ_AND_STORE;
  if (n === 3) return ['metadata', 'series', 'instances', ...RENDERED].includes(level3) ? READ : undefined;
  if (level3 !== 'series' || !isUid(series)) return undefined;
  if (n === 4) return READ;
  if (n === 5) return ['metadata', 'instances', ...RENDERED].includes(level5) ? READ : undefined;
  if (level5 !== 'instances' || !isUid(instance)) return undefined;
  if (n === 6) return READ;
  if (n === 7) return ['metadata', ...RENDERED].includes(level7) ? READ : undefined;
  if (level7 === 'frames' && isFrameList(frames)) {
    if (n === 8) return READ;
    if (n === 9) return RENDERED.includes(level9) ? READ : undefined;
    return undefined;
  }
  if (level7 === 'bulk' && n - 7 <= MAX_BULK_DEPTH && segments.slice(7).every((segment) => BULK_SEGMENT.test(segment))) return READ;
  return undefined;
}

const refuse = (status: RouteRefusal['status'], code: string, error: string, hint: string, allow?: string): RouteRefusal => ({ status, code, error, hint, allow });

const ONLY_DICOMWEB_HINT = `Only the PACS's DICOMweb routes (QIDO-RS, WADO-RS, STOW-RS) are reachable through this server, below ${PROXY_DICOMWEB_ROOT}/.`;

/**
 * Checks one proxied request. `target` is the raw request target (req.url), which starts with
 * PACS_PROXY_PREFIX; `method` the request method.
 */
export function routePacsRequest(target: string, method: string): DicomWebRoute | RouteRefusal {
  if (target.length > MAX_TARGET_LENGTH) {
    return refuse(400, 'TARGET_TOO_LONG', `The request is longer than ${MAX_TARGET_LENGTH} characters.`, 'Search with fewer values at once.');
  }
  const queryAt = target.indexOf('?');
  const path = queryAt < 0 ? target : target.slice(0, queryAt);
  const query = queryAt < 0 ? '' : target.slice(queryAt + 1);
  const rootWithSlash = `${PROXY_DICOMWEB_ROOT}/`;
  if (!path.startsWith(rootWithSlash)) {
    // /orthanc/system, /orthanc/tools/shutdown, /orthanc/app/explorer.html, /orthanc%2F..., /orthanc/http://...
    const malformed = !PATH_CHARACTERS.test(path) || path.includes('//');
    return malformed
      ? refuse(400, 'BAD_PATH', 'The proxied path holds characters or empty segments that no DICOMweb route uses.', ONLY_DICOMWEB_HINT)
      : refuse(404, 'NOT_DICOMWEB', `${path} is not a DICOMweb route of the PACS.`, ONLY_DICOMWEB_HINT);
  }
  const rest = path.slice(rootWithSlash.length);
  if (!PATH_CHARACTERS.test(rest)) {
    return refuse(400, 'BAD_PATH', 'The proxied path holds a character that no DICOMweb route uses (only letters, digits, ".", "," and "-"; no percent-encoding).', ONLY_DICOMWEB_HINT);
  }
  const segments = rest.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return refuse(400, 'BAD_PATH', 'The proxied path has an empty, "." or ".." segment.', ONLY_DICOMWEB_HINT);
  }
  const allowed = methodsOf(segments);
  if (!allowed) return refuse(404, 'NOT_DICOMWEB', `${path} is not a DICOMweb route the viewer uses.`, ONLY_DICOMWEB_HINT);
  if (!(allowed as string[]).includes(method)) {
    const stow = allowed.includes('POST') ? ' POST only stores (STOW-RS) to /studies or /studies/{uid}.' : ' POST (STOW-RS) goes to /studies or /studies/{uid}.';
    return refuse(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}.`, `Reads use GET or HEAD.${stow}`, allowed.join(', '));
  }
  const queryProblem = checkQuery(query, method);
  if (queryProblem) return queryProblem;
  return { segments, query, allowed };
}

function checkQuery(query: string, method: string): RouteRefusal | undefined {
  if (!query) return undefined;
  if (method === 'POST') return refuse(400, 'BAD_QUERY', 'STOW-RS takes no query parameters.', 'POST the multipart body to /studies or /studies/{uid} without "?".');
  if (query.includes('#')) return refuse(400, 'BAD_QUERY', 'The query holds a "#".', 'Percent-encode it.');
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const key = pair.split('=', 1)[0];
    if (!QUERY_KEY.test(key)) {
      return refuse(400, 'BAD_QUERY', `"${key.slice(0, 64)}" is not a QIDO query key.`, 'Use attribute keywords or tags (PatientName=..., 00100010=...), includefield, limit, offset or fuzzymatching.');
    }
  }
  return undefined;
}

export function isRefusal(value: DicomWebRoute | RouteRefusal): value is RouteRefusal {
  return 'status' in value;
}
