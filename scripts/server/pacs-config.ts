/**
 * The PACS the proxy talks to, checked once at start: an http(s) origin (plus an optional base
 * path), its DICOMweb root, Basic credentials kept apart from the URL, and the limits on what the
 * proxy forwards. The proxy builds every upstream URL from this origin and root, never from the
 * request, so the credentials can only go to this one server.
 */

export interface PacsConfig {
  /** Base URL of the PACS, e.g. http://127.0.0.1:8042 (its DICOMweb below dicomWebPath). */
  url: string;
  username?: string;
  password?: string;
  /** Name shown in the viewer's data source list. */
  name?: string;
  /** DICOMweb root below url; default "/dicom-web" (Orthanc's). */
  dicomWebPath?: string;
  /** Largest request body (STOW-RS upload) passed on; default 512 MiB. */
  maxUploadBytes?: number;
  /** Longest time a client may take to send a request body; default 300 s. */
  uploadTimeoutMs?: number;
  /** Longest wait for the PACS to start answering, and for each further chunk; default 120 s. */
  responseTimeoutMs?: number;
}

export interface ResolvedPacs {
  /** The URL as configured (no credentials in it), for messages. */
  url: string;
  /** scheme://host:port that every upstream request goes to. */
  origin: string;
  /** origin + base path + DICOMweb root, without a trailing slash. */
  dicomWebRoot: string;
  authorization?: string;
  name: string;
  maxUploadBytes: number;
  uploadTimeoutMs: number;
  responseTimeoutMs: number;
}

export const DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024;
export const DEFAULT_UPLOAD_TIMEOUT_MS = 300_000;
export const DEFAULT_RESPONSE_TIMEOUT_MS = 120_000;

export class PacsConfigError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'PacsConfigError';
  }
}

const PATH = /^(\/[A-Za-z0-9._~-]+)*$/;

export function resolvePacs(config: PacsConfig): ResolvedPacs {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new PacsConfigError(`RT_LIVER_PACS_URL=${config.url} is not a URL.`, 'Use the PACS base URL, e.g. http://127.0.0.1:8042.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PacsConfigError(`RT_LIVER_PACS_URL must be http:// or https://, not ${url.protocol}.`, 'Use the PACS base URL, e.g. https://pacs.example.org.');
  }
  if (url.username || url.password) {
    throw new PacsConfigError('RT_LIVER_PACS_URL holds a user name or password.', 'Give them in RT_LIVER_PACS_USER and RT_LIVER_PACS_PASSWORD instead, and remove them from the URL.');
  }
  if (url.search || url.hash) {
    throw new PacsConfigError('RT_LIVER_PACS_URL has a query or fragment.', 'Use the base URL only, e.g. https://pacs.example.org/pacs.');
  }
  const basePath = url.pathname.replace(/\/+$/, '');
  const dicomWebPath = (config.dicomWebPath ?? '/dicom-web').replace(/\/+$/, '');
  if (!PATH.test(basePath) || !PATH.test(dicomWebPath)) {
    throw new PacsConfigError(`The PACS path ${basePath}${dicomWebPath} has characters other than letters, digits and . _ ~ -.`, 'Check RT_LIVER_PACS_URL and RT_LIVER_PACS_DICOMWEB_PATH.');
  }
  if (/(^|\/)\.\.?(\/|$)/.test(dicomWebPath)) {
    throw new PacsConfigError(`RT_LIVER_PACS_DICOMWEB_PATH=${dicomWebPath} has "." or ".." segments.`, 'Give the DICOMweb root as a plain path, e.g. /dicom-web.');
  }
  const positive = (value: number | undefined, fallback: number, name: string) => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value <= 0) throw new PacsConfigError(`${name} must be a positive number, not ${value}.`, 'See docs/viewer.md for the PACS limits.');
    return value;
  };
  return {
    url: url.href.replace(/\/$/, ''),
    origin: url.origin,
    dicomWebRoot: `${url.origin}${basePath}${dicomWebPath}`,
    authorization: config.username ? `Basic ${Buffer.from(`${config.username}:${config.password ?? ''}`).toString('base64')}` : undefined,
    name: config.name ?? 'PACS',
    maxUploadBytes: positive(config.maxUploadBytes, DEFAULT_MAX_UPLOAD_BYTES, 'RT_LIVER_PACS_MAX_UPLOAD_MB'),
    uploadTimeoutMs: positive(config.uploadTimeoutMs, DEFAULT_UPLOAD_TIMEOUT_MS, 'RT_LIVER_PACS_UPLOAD_TIMEOUT_S'),
    responseTimeoutMs: positive(config.responseTimeoutMs, DEFAULT_RESPONSE_TIMEOUT_MS, 'RT_LIVER_PACS_TIMEOUT_S'),
  };
}

/** The PACS of RT_LIVER_PACS_URL and its companions, or undefined when none is set. */
export function pacsConfigFromEnv(env: NodeJS.ProcessEnv): PacsConfig | undefined {
  if (!env.RT_LIVER_PACS_URL) return undefined;
  return {
    url: env.RT_LIVER_PACS_URL,
    username: env.RT_LIVER_PACS_USER,
    password: env.RT_LIVER_PACS_PASSWORD,
    name: env.RT_LIVER_PACS_NAME ?? 'PACS',
    ...limitsFromEnv(env),
  };
}

/** RT_LIVER_PACS_DICOMWEB_PATH, _MAX_UPLOAD_MB, _UPLOAD_TIMEOUT_S, _TIMEOUT_S (also for the local Orthanc). */
export function limitsFromEnv(env: NodeJS.ProcessEnv): Pick<PacsConfig, 'dicomWebPath' | 'maxUploadBytes' | 'uploadTimeoutMs' | 'responseTimeoutMs'> {
  const number = (name: string, scale: number) => (env[name] === undefined || env[name] === '' ? undefined : Number(env[name]) * scale);
  return {
    dicomWebPath: env.RT_LIVER_PACS_DICOMWEB_PATH || undefined,
    maxUploadBytes: number('RT_LIVER_PACS_MAX_UPLOAD_MB', 1024 * 1024),
    uploadTimeoutMs: number('RT_LIVER_PACS_UPLOAD_TIMEOUT_S', 1000),
    responseTimeoutMs: number('RT_LIVER_PACS_TIMEOUT_S', 1000),
  };
}
