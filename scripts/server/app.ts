/**
 * The viewer's HTTP server (node:http): OHIF's prebuilt dist with our generated app-config.js,
 * our plugins, the models, our onnxruntime-web files, the embedded static DICOMweb store, and a
 * proxy to the PACS. Every response carries the cross-origin isolation headers.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { join, normalize, resolve, sep } from 'node:path';
import { ORT_PATH, PACS_STATUS_PATH, PLUGIN_PATH } from '../../extension/src/plugins';
import { PACS_PROXY_PREFIX, renderAppConfig } from './app-config';
import { ISOLATION_HEADERS, mimeType } from './headers';
import { PacsConfig, checkPacs, proxyToPacs } from './pacs-proxy';
import { DICOMWEB_PREFIX } from './publish';
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

export function createViewerServer(options: ViewerServerOptions): Server {
  const appConfig = renderAppConfig({ pacsName: options.pacs ? (options.pacs.name ?? 'PACS') : undefined });
  return createServer((req, res) => {
    handle(options, appConfig, req, res).catch((error: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: `Internal error: ${error.message}` });
      else res.destroy(error);
    });
  });
}

async function handle(options: ViewerServerOptions, appConfig: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = decodeURIComponent(url.pathname);

  if (path === PACS_PROXY_PREFIX || path.startsWith(`${PACS_PROXY_PREFIX}/`)) {
    if (!options.pacs) return sendJson(res, 404, { error: 'No PACS is configured on this server.', hint: 'Set RT_LIVER_PACS_URL (see docs/viewer.md).' });
    // OHIF encodes QIDO list separators (includefield=a%2Cb); Orthanc's DICOMweb plugin only splits
    // a literal comma and would drop StudyDescription and the other included fields.
    const search = url.search.replace(/%2C/gi, ',');
    return proxyToPacs(options.pacs, path.slice(PACS_PROXY_PREFIX.length).replace(/^\//, '') + search, req, res, ISOLATION_HEADERS);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendJson(res, 405, { error: `${req.method} is not supported here.` });
  }
  if (path === PACS_STATUS_PATH) return sendJson(res, 200, await checkPacs(options.pacs));
  if (path === '/app-config.js') return sendBody(res, 200, 'text/javascript; charset=utf-8', appConfig, 'no-cache');
  if (path === DICOMWEB_PREFIX || path.startsWith(`${DICOMWEB_PREFIX}/`)) {
    const answer = handleStoreRequest(options.storeDir, path.slice(DICOMWEB_PREFIX.length), url.searchParams);
    return sendBody(res, answer.status, answer.contentType, answer.body, 'no-cache');
  }
  if (path.startsWith(`${PLUGIN_PATH}/`)) { await sendFile(res, options.pluginsDir, path.slice(PLUGIN_PATH.length), 'no-cache'); return; }
  if (path.startsWith('/models/')) { await sendFile(res, options.modelsDir, path.slice('/models'.length), 'no-cache'); return; }
  if (path.startsWith(`${ORT_PATH}/`)) { await sendFile(res, options.ortDir, path.slice(ORT_PATH.length), 'max-age=3600'); return; }
  // OHIF's service worker would cache the app across our restarts; the viewer does not need it.
  if (path === '/sw.js') return sendBody(res, 404, 'text/plain', 'no service worker', 'no-cache');
  if (await sendFile(res, options.ohifDist, path, path === '/' ? 'no-cache' : 'max-age=3600', true)) return;
  // Client-side routes (/realtime-liver/local?StudyInstanceUIDs=...) get the single-page app.
  if (!/\.[a-z0-9]+$/i.test(path)) { await sendFile(res, options.ohifDist, '/index.html', 'no-cache'); return; }
  sendJson(res, 404, { error: `${path} was not found.` });
}

/** Streams root + relative if it is a file inside root. Returns false (and sends nothing) when quiet and missing. */
async function sendFile(res: ServerResponse, root: string, relative: string, cacheControl: string, quietIfMissing = false): Promise<boolean> {
  const base = resolve(root);
  let file = normalize(join(base, relative));
  if (file !== base && !file.startsWith(base + sep)) {
    sendJson(res, 403, { error: 'Path outside the served folder.' });
    return true;
  }
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
  if (!existsSync(file) || !statSync(file).isFile()) {
    if (quietIfMissing) return false;
    sendJson(res, 404, { error: `${relative} was not found in ${root}.` });
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

function sendBody(res: ServerResponse, status: number, contentType: string, body: string | Buffer, cacheControl: string): void {
  res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': cacheControl });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  sendBody(res, status, 'application/json; charset=utf-8', JSON.stringify(value), 'no-cache');
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
