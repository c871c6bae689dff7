/**
 * The viewer's HTTP server (node:http): OHIF's prebuilt dist with our generated app-config.js,
 * our plugins, the models, our onnxruntime-web files, the embedded static DICOMweb store, and a
 * proxy to the PACS. Every response carries the cross-origin isolation headers.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { join, normalize, resolve, sep } from 'node:path';
import { ORT_PATH, PACS_STATUS_PATH, PLUGIN_PATH } from '../../extension/src/plugins';
import { renderAppConfig } from './app-config';
import { PACS_PROXY_PREFIX, isRefusal, routePacsRequest } from './dicomweb-routes';
import { ISOLATION_HEADERS, mimeType } from './headers';
import { type PacsConfig, type ResolvedPacs, checkPacs, proxyToPacs, resolvePacs } from './pacs-proxy';
import { DICOMWEB_PREFIX } from './publish';
import { type GuardRefusal, checkHost, checkSameOrigin, checkTarget, servedHostNames } from './request-guard';
import { sendBody, sendJson } from './responses';
import { handleStoreRequest } from './store';

export interface ServerPaths {
  ohifDist: string;
  pluginsDir: string;
  modelsDir: string;
  ortDir: string;
  storeDir: string;
}

export interface ViewerServerOptions extends ServerPaths {
  pacs?: PacsConfig;
  /**
   * Host names (Host header) the server answers; default loopback (localhost, 127.0.0.1, ::1).
   * servedHostNames() in request-guard.ts builds it from HOST and RT_LIVER_ALLOWED_HOSTS.
   */
  allowedHosts?: string[];
  /** Where refused requests and internal errors are reported; default console.warn. */
  log?: (line: string) => void;
}

/** Defaults relative to the repository root. */
export function defaultPaths(repoRoot: string): ServerPaths {
  return {
    ohifDist: join(repoRoot, 'node_modules/@ohif/app/dist'),
    pluginsDir: join(repoRoot, 'dist/plugins'),
    modelsDir: join(repoRoot, 'models'),
    ortDir: join(repoRoot, 'node_modules/onnxruntime-web/dist'),
    storeDir: join(repoRoot, 'var/dicomweb'),
  };
}

interface ServerContext {
  options: ViewerServerOptions;
  pacs?: ResolvedPacs;
  appConfig: string;
  allowedHosts: string[];
  log: (line: string) => void;
}

export function createViewerServer(options: ViewerServerOptions): Server {
  const pacs = options.pacs ? resolvePacs(options.pacs) : undefined;
  const context: ServerContext = {
    options,
    pacs,
    appConfig: renderAppConfig({ pacsName: pacs?.name }),
    allowedHosts: options.allowedHosts ?? servedHostNames('localhost'),
    log: options.log ?? ((line) => console.warn(line)),
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(context, req, res).catch((error: Error) => {
      // The details (paths, stack) go to the server's log, not to the browser.
      context.log(`rt-liver: internal error on ${req.method} ${String(req.url).slice(0, 200)}: ${error.stack ?? error.message}`);
      if (!res.headersSent) sendJson(res, 500, { code: 'INTERNAL_ERROR', error: 'Internal error.', hint: "The server's log says more." });
      else res.destroy(error);
    });
  };
  const server = createServer(handler);
  // Expect: 100-continue (curl, large uploads): the checks run first, so a refused upload is never sent.
  server.on('checkContinue', handler);
  if (pacs) {
    // Node's own cap on receiving a whole request must not cut a slow upload before ours answers.
    server.requestTimeout = pacs.uploadTimeoutMs + 30_000;
  }
  return server;
}

function refuse(context: ServerContext, req: IncomingMessage, res: ServerResponse, refusal: GuardRefusal | { status: number; code: string; error: string; hint: string; allow?: string }): void {
  context.log(`rt-liver: refused ${req.method} ${String(req.url).slice(0, 200)} (Host ${String(req.headers.host).slice(0, 100)}): ${refusal.status} ${refusal.code}`);
  const { status, allow, ...body } = refusal as { status: number; allow?: string; code: string; error: string; hint: string };
  sendJson(res, status, body, allow ? { Allow: allow } : {});
}

/** decodeURIComponent, or undefined for a malformed escape (%zz, a lone %). */
function decodePath(pathname: string): string | undefined {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
}

async function handle(context: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { options } = context;
  const target = req.url ?? '/';
  const guard = checkHost(req, context.allowedHosts) ?? checkTarget(target);
  if (guard) return refuse(context, req, res, guard);

  // Raw target, not the parsed URL: the proxy's own checks must see what the client sent.
  // Everything starting with /orthanc, in any case or encoding, is the proxy's to check and refuse.
  if (target.toLowerCase().startsWith(PACS_PROXY_PREFIX)) {
    const method = req.method ?? 'GET';
    const crossOrigin = checkSameOrigin(req, method !== 'GET' && method !== 'HEAD');
    if (crossOrigin) return refuse(context, req, res, crossOrigin);
    if (!context.pacs) return sendJson(res, 404, { code: 'PACS_NOT_CONFIGURED', error: 'No PACS is configured on this server.', hint: 'Set RT_LIVER_PACS_URL (see docs/viewer.md).' });
    const route = routePacsRequest(target, method);
    if (isRefusal(route)) return refuse(context, req, res, route);
    return proxyToPacs(context.pacs, route, req, res);
  }

  const url = new URL(target, 'http://localhost');
  const path = decodePath(url.pathname);
  if (path === undefined) return sendJson(res, 400, { code: 'BAD_PATH', error: 'The path has a malformed percent-encoding.', hint: 'Check the URL.' });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendJson(res, 405, { code: 'METHOD_NOT_ALLOWED', error: `${req.method} is not supported here.`, hint: 'This server only serves files; the PACS proxy takes POST for STOW-RS.' }, { Allow: 'GET, HEAD' });
  }
  if (path.startsWith('/rt-liver/api/')) {
    const crossOrigin = checkSameOrigin(req, false);
    if (crossOrigin) return refuse(context, req, res, crossOrigin);
    if (path === PACS_STATUS_PATH) return sendJson(res, 200, await checkPacs(options.pacs));
    return sendJson(res, 404, { code: 'NOT_FOUND', error: `${path} is not an API of this server.`, hint: `The PACS status is at ${PACS_STATUS_PATH}.` });
  }
  if (path === '/app-config.js') return sendBody(res, 200, 'text/javascript; charset=utf-8', context.appConfig, 'no-cache');
  if (path === DICOMWEB_PREFIX || path.startsWith(`${DICOMWEB_PREFIX}/`)) {
    const answer = handleStoreRequest(options.storeDir, path.slice(DICOMWEB_PREFIX.length), url.searchParams);
    return sendBody(res, answer.status, answer.contentType, answer.body, 'no-cache');
  }
  if (path.startsWith(`${PLUGIN_PATH}/`)) { await sendFile(res, options.pluginsDir, path.slice(PLUGIN_PATH.length), 'no-cache'); return; }
  if (path.startsWith('/models/')) { await sendFile(res, options.modelsDir, path.slice('/models'.length), 'no-cache'); return; }
  if (path.startsWith(`${ORT_PATH}/`)) { await sendFile(res, options.ortDir, path.slice(ORT_PATH.length), 'max-age=3600'); return; }
  // OHIF's service worker would cache the app across our restarts; the viewer does not need it.
  if (path === '/sw.js') return sendBody(res, 404, 'text/plain; charset=utf-8', 'no service worker', 'no-cache');
  if (await sendFile(res, options.ohifDist, path, path === '/' ? 'no-cache' : 'max-age=3600', true)) return;
  // Client-side routes (/realtime-liver/local?StudyInstanceUIDs=...) get the single-page app.
  if (!/\.[a-z0-9]+$/i.test(path)) { await sendFile(res, options.ohifDist, '/index.html', 'no-cache'); return; }
  sendJson(res, 404, { code: 'NOT_FOUND', error: `${path.slice(0, 200)} was not found.`, hint: 'Check the URL.' });
}

/** Streams root + relative if it is a file inside root. Returns false (and sends nothing) when quiet and missing. */
async function sendFile(res: ServerResponse, root: string, relative: string, cacheControl: string, quietIfMissing = false): Promise<boolean> {
  const base = resolve(root);
  let file = normalize(join(base, relative));
  if (file !== base && !file.startsWith(base + sep)) {
    sendJson(res, 403, { code: 'OUTSIDE_FOLDER', error: 'Path outside the served folder.', hint: 'Check the URL.' });
    return true;
  }
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
  if (!existsSync(file) || !statSync(file).isFile()) {
    if (quietIfMissing) return false;
    // The relative path only: the server's folders are nobody else's business.
    sendJson(res, 404, { code: 'NOT_FOUND', error: `${relative.slice(0, 200)} was not found.`, hint: 'Check the URL.' });
    return true;
  }
  const size = statSync(file).size;
  res.writeHead(200, { ...ISOLATION_HEADERS, 'Content-Type': mimeType(file), 'Content-Length': size, 'Cache-Control': cacheControl });
  if (res.req.method === 'HEAD') {
    res.end();
    return true;
  }
  await new Promise<void>((done, fail) => createReadStream(file).on('error', fail).pipe(res).on('finish', done).on('close', done));
  return true;
}

/** Listens on `port`, resolving with the port actually bound (0 = any free port). */
export function listen(server: Server, port: number, host?: string): Promise<number> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      const address = server.address();
      done(typeof address === 'object' && address ? address.port : port);
    });
  });
}
