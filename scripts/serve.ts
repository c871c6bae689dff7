/**
 * Starts the rt-liver viewer: publishes the local studies into the static DICOMweb store (when
 * missing or changed), then serves OHIF with our extension and mode. Environment:
 *   PORT (default 3000), HOST (default localhost), RT_LIVER_ALLOWED_HOSTS (more host names the
 *   server answers to, comma-separated);
 *   RT_LIVER_PACS_URL, RT_LIVER_PACS_USER, RT_LIVER_PACS_PASSWORD, RT_LIVER_PACS_NAME: a DICOMweb
 *   PACS (DICOMweb under RT_LIVER_PACS_DICOMWEB_PATH, default /dicom-web) shown as the second data
 *   source; RT_LIVER_PACS_MAX_UPLOAD_MB, RT_LIVER_PACS_UPLOAD_TIMEOUT_S, RT_LIVER_PACS_TIMEOUT_S:
 *   the proxy's limits (docs/viewer.md);
 *   RT_LIVER_ORTHANC=1 instead starts a local Orthanc (loopback, Basic auth, ORTHANC_PORT default
 *   8042, storage kept in var/orthanc), loads the demo study into it and uses it as that PACS; it
 *   stops with the server.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXTENSION_PLUGIN_FILE } from '../extension/src/plugins';
import { createViewerServer, defaultPaths, listen } from './server/app';
import { PacsConfigError, limitsFromEnv, pacsConfigFromEnv, resolvePacs } from './server/pacs-config';
import { PacsConfig } from './server/pacs-proxy';
import { servedHostNames } from './server/request-guard';
import { defaultSources, publishSources } from './server/sources';
import { demoStudyPaths } from './data/demo-study';
import { OrthancHandle, startOrthanc } from './orthanc/launcher';
import { uploadFolder } from './orthanc/load-folder';

const repoRoot = resolve(__dirname, '..');

async function main(): Promise<void> {
  const started = Date.now();
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT=${process.env.PORT} is not a port number.`, 'Use an integer from 1 to 65535, e.g. PORT=3001 npm start');
  const host = process.env.HOST ?? 'localhost';
  const paths = defaultPaths(repoRoot);
  if (!existsSync(join(paths.pluginsDir, EXTENSION_PLUGIN_FILE))) {
    fail(`The plugins are not built (${paths.pluginsDir} is missing).`, 'Run `npm run build` (or `npm start`, which builds them).');
  }
  if (!existsSync(join(paths.ohifDist, 'index.html'))) {
    fail(`OHIF's viewer is not installed (${paths.ohifDist}).`, 'Run `bash scripts/setup.sh`.');
  }
  publishSources(defaultSources(repoRoot), paths.storeDir, (line) => console.log(`rt-liver: ${line}`));
  let orthanc: OrthancHandle | undefined;
  if (process.env.RT_LIVER_ORTHANC === '1') orthanc = await startLocalOrthanc();
  const pacs: PacsConfig | undefined = orthanc
    ? { url: orthanc.url, username: orthanc.username, password: orthanc.password, name: 'Orthanc (local)', ...limitsFromEnv(process.env), dicomWebPath: undefined }
    : pacsConfigFromEnv(process.env);
  if (pacs) {
    try {
      const resolved = resolvePacs(pacs);
      const loopback = /^(localhost|127\.[0-9.]+|\[::1\])$/.test(new URL(resolved.origin).hostname);
      if (resolved.authorization && resolved.origin.startsWith('http:') && !loopback) {
        console.warn(`rt-liver: warning: the PACS credentials go to ${resolved.origin} over plain http; use https:// for a PACS on another machine.`);
      }
    } catch (error) {
      await orthanc?.stop();
      if (error instanceof PacsConfigError) fail(error.message, error.hint);
      throw error;
    }
  }
  const extraHosts = (process.env.RT_LIVER_ALLOWED_HOSTS ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  const allowedHosts = servedHostNames(host, extraHosts);
  const server = createViewerServer({ ...paths, pacs, allowedHosts });
  try {
    await listen(server, port, host);
  } catch (error) {
    await orthanc?.stop();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      fail(`Port ${port} is already in use (another rt-liver server or another program).`, `Stop it, or choose another port: PORT=${port + 1} npm start`);
    }
    throw error;
  }
  // Listening on every interface: the URL to open on this machine is still localhost.
  const url = `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${port}`;
  console.log(`rt-liver: ready in ${Date.now() - started} ms`);
  if (pacs) console.log(`rt-liver: PACS data source "${pacs.name}" -> ${pacs.url} (its DICOMweb only, proxied at ${url}/orthanc/dicom-web)`);
  if (pacs && !servedHostNames('localhost').includes(host)) {
    console.warn(`rt-liver: warning: HOST=${host}: anyone who can reach this port can read and store studies in the PACS with its credentials.`);
  }
  console.log(`rt-liver: open ${url}`);
  const stop = () => {
    server.closeAllConnections();
    server.close(() => void (orthanc ? orthanc.stop() : Promise.resolve()).then(() => process.exit(0)));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/**
 * The local Orthanc of RT_LIVER_ORTHANC=1, loaded with the demo study. Its storage is kept in
 * var/orthanc (ORTHANC_STORAGE: another folder, or "temporary"). Its password is random for each
 * start unless ORTHANC_PASSWORD is set: only this server needs it, and a well-known password would
 * let any web page that reaches Orthanc on loopback (DNS rebinding) use its REST API.
 */
async function startLocalOrthanc(): Promise<OrthancHandle> {
  const storage = localOrthancStorage(process.env.ORTHANC_STORAGE);
  const orthanc = await startOrthanc({
    port: Number(process.env.ORTHANC_PORT ?? 8042),
    username: process.env.ORTHANC_USER ?? 'rtliver',
    password: process.env.ORTHANC_PASSWORD || randomBytes(18).toString('base64url'),
    storageDir: storage,
  });
  const where = orthanc.kept
    ? `storage kept in ${orthanc.storageDir} across restarts (delete it to start empty)`
    : `TEMPORARY storage in ${orthanc.storageDir}, deleted when the server stops`;
  console.log(`rt-liver: started Orthanc at ${orthanc.url} (user ${orthanc.username}, password ${orthanc.password}); ${where}`);
  const demo = demoStudyPaths(join(repoRoot, 'var')).seriesDir;
  if (existsSync(demo)) {
    const { uploaded } = await uploadFolder(orthanc, demo);
    console.log(`rt-liver: Orthanc holds the demo study (${uploaded} instances sent)`);
  } else {
    console.log('rt-liver: no demo study to load into Orthanc (run npx tsx scripts/generate-data.ts)');
  }
  return orthanc;
}

/** ORTHANC_STORAGE: unset = var/orthanc, "temporary" = a folder removed at stop, else that folder. */
function localOrthancStorage(setting: string | undefined): string | undefined {
  if (setting === 'temporary') return undefined;
  return resolve(setting || join(repoRoot, 'var', 'orthanc'));
}

function fail(message: string, hint: string): never {
  console.error(`rt-liver: ${message}\n  ${hint}`);
  process.exit(1);
}

main().catch((error: Error) => fail(error.message, 'See the stack trace above.'));
