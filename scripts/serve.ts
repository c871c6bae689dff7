/**
 * Starts the rt-liver viewer: publishes the local studies into the static DICOMweb store (when
 * missing or changed), then serves OHIF with our extension and mode. Environment:
 *   PORT (default 3000), HOST (default localhost),
 *   RT_LIVER_PACS_URL, RT_LIVER_PACS_USER, RT_LIVER_PACS_PASSWORD, RT_LIVER_PACS_NAME: a DICOMweb
 *   PACS (Orthanc layout: DICOMweb under /dicom-web) shown as the second data source;
 *   RT_LIVER_ORTHANC=1 instead starts a local Orthanc (loopback, Basic auth, ORTHANC_PORT default
 *   8042), loads the demo study into it and uses it as that PACS; it stops with the server.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXTENSION_PLUGIN_FILE } from '../extension/src/plugins';
import { createViewerServer, defaultPaths, listen } from './server/app';
import { PacsConfig } from './server/pacs-proxy';
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
    ? { url: orthanc.url, username: orthanc.username, password: orthanc.password, name: 'Orthanc (local)' }
    : process.env.RT_LIVER_PACS_URL
    ? {
        url: process.env.RT_LIVER_PACS_URL,
        username: process.env.RT_LIVER_PACS_USER,
        password: process.env.RT_LIVER_PACS_PASSWORD,
        name: process.env.RT_LIVER_PACS_NAME ?? 'PACS',
      }
    : undefined;
  const server = createViewerServer({ ...paths, pacs });
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
  if (pacs) console.log(`rt-liver: PACS data source "${pacs.name}" -> ${pacs.url} (proxied at ${url}/orthanc)`);
  console.log(`rt-liver: open ${url}`);
  const stop = () => {
    server.closeAllConnections();
    server.close(() => void (orthanc ? orthanc.stop() : Promise.resolve()).then(() => process.exit(0)));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** The local Orthanc of RT_LIVER_ORTHANC=1, loaded with the demo study. */
async function startLocalOrthanc(): Promise<OrthancHandle> {
  const orthanc = await startOrthanc({
    port: Number(process.env.ORTHANC_PORT ?? 8042),
    username: process.env.ORTHANC_USER ?? 'rtliver',
    password: process.env.ORTHANC_PASSWORD ?? 'rtliver',
  });
  const demo = demoStudyPaths(join(repoRoot, 'var')).seriesDir;
  if (existsSync(demo)) {
    const { uploaded } = await uploadFolder(orthanc, demo);
    console.log(`rt-liver: started Orthanc at ${orthanc.url} (storage ${orthanc.storageDir}) with the demo study (${uploaded} instances)`);
  } else {
    console.log(`rt-liver: started Orthanc at ${orthanc.url}; no demo study to load (run npx tsx scripts/generate-data.ts)`);
  }
  return orthanc;
}

function fail(message: string, hint: string): never {
  console.error(`rt-liver: ${message}\n  ${hint}`);
  process.exit(1);
}

main().catch((error: Error) => fail(error.message, 'See the stack trace above.'));
