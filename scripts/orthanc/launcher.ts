/**
 * Starts Debian's Orthanc (with its DICOMweb plugin): loopback only, HTTP Basic auth, no DICOM port,
 * no WebDAV, no Lua. Storage is either a temporary folder that stop() removes (the tests,
 * test/support/orthanc.ts) or a folder that is kept across restarts (`npm run start:pacs` and
 * `npx tsx scripts/orthanc.ts` keep theirs in var/orthanc).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface OrthancOptions {
  /** HTTP port; a free one is chosen when omitted. */
  port?: number;
  username?: string;
  password?: string;
  /** Milliseconds to wait for `/system` to answer; default 30 s. */
  startTimeoutMs?: number;
  /** Also print Orthanc's own log lines (stdout/stderr) as they come. */
  echoLog?: boolean;
  /**
   * A folder for the configuration, storage and index that is kept after stop() (created when
   * missing); default: a temporary folder that stop() removes.
   */
  storageDir?: string;
}

export interface OrthancHandle {
  /** http://127.0.0.1:PORT */
  url: string;
  /** url + '/dicom-web' */
  dicomWebUrl: string;
  username: string;
  password: string;
  /** Value of the Authorization header: 'Basic …'. */
  authorization: string;
  /** Folder holding the configuration, storage and index; removed by stop() unless `kept`. */
  storageDir: string;
  /** True when storageDir was given and survives stop(). */
  kept: boolean;
  /** Settles with Orthanc's exit code when its process ends (after stop(), or if it dies). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export class OrthancError extends Error {
  constructor(message: string, readonly hint: string) {
    super(`${message} ${hint}`);
    this.name = 'OrthancError';
  }
}

/** How often, and how long each time, the launcher asks a starting Orthanc whether it is ready. */
const READY_POLL_MS = 100;
const READY_PROBE_TIMEOUT_MS = 2000;
/** How long Orthanc may take to stop after SIGTERM (it flushes its database) before it is killed. */
const TERMINATE_GRACE_MS = 10000;
const BINARY_CANDIDATES = ['/usr/sbin/Orthanc', '/usr/bin/Orthanc', '/usr/local/sbin/Orthanc', '/usr/local/bin/Orthanc'];
const PLUGIN_DIRECTORIES = ['/usr/share/orthanc/plugins', '/usr/lib/orthanc', '/usr/local/share/orthanc/plugins'];
const DICOMWEB_PLUGIN_NAMES = ['libOrthancDicomWeb.so'];

/** The Orthanc executable: $ORTHANC_BINARY, then Debian's locations, then PATH. */
export function findOrthancBinary(): string {
  const configured = process.env.ORTHANC_BINARY;
  if (configured) {
    if (existsSync(configured)) return configured;
    throw new OrthancError(`ORTHANC_BINARY points to ${configured}, which does not exist.`, 'Fix or unset ORTHANC_BINARY, or run scripts/setup.sh to install Debian\'s orthanc.');
  }
  const fromPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'Orthanc'));
  const found = [...BINARY_CANDIDATES, ...fromPath].find((candidate) => existsSync(candidate));
  if (!found) {
    throw new OrthancError('The Orthanc binary was not found.', 'Run scripts/setup.sh (it installs the Debian packages orthanc and orthanc-dicomweb), or set ORTHANC_BINARY.');
  }
  return found;
}

/** The DICOMweb plugin's shared library: $ORTHANC_DICOMWEB_PLUGIN, then Debian's plugin folders. */
export function findDicomWebPlugin(): string {
  const candidates = [
    process.env.ORTHANC_DICOMWEB_PLUGIN,
    ...PLUGIN_DIRECTORIES.flatMap((dir) => DICOMWEB_PLUGIN_NAMES.map((name) => join(dir, name))),
  ].filter((p): p is string => !!p);
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new OrthancError('The Orthanc DICOMweb plugin was not found.', 'Run scripts/setup.sh (it installs the Debian package orthanc-dicomweb), or set ORTHANC_DICOMWEB_PLUGIN.');
  }
  return found;
}

/** A port that was free a moment ago (the OS picks it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Rejects with a clear error when something already listens on the port (Orthanc binds all interfaces). */
function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new OrthancError(`Port ${port} is already in use (${error.code}).`, 'Stop whatever listens there or choose another port (ORTHANC_PORT, or the port option).'));
    });
    server.listen(port, () => server.close(() => resolve()));
  });
}

export function orthancConfiguration(options: { port: number; username: string; password: string; storageDir: string; plugin: string }) {
  return {
    Name: 'rt-liver',
    StorageDirectory: join(options.storageDir, 'storage'),
    IndexDirectory: join(options.storageDir, 'index'),
    HttpPort: options.port,
    HttpServerEnabled: true,
    // There is no bind-address option: refuse remote clients and keep the DICOM port closed.
    RemoteAccessAllowed: false,
    DicomServerEnabled: false,
    AuthenticationEnabled: true,
    RegisteredUsers: { [options.username]: options.password },
    Plugins: [options.plugin],
    // No DicomWeb.Host: BulkData URIs then follow the request's Host, so a proxy in front works.
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: true, WadoRoot: '/wado', Ssl: false },
    SaveJobs: false,
    ExecuteLuaEnabled: false,
    // Nothing but HTTP on loopback: no WebDAV view of the storage either.
    WebDavEnabled: false,
    HttpTimeout: 60,
    StableAge: 1,
  };
}

export async function startOrthanc(options: OrthancOptions = {}): Promise<OrthancHandle> {
  const binary = findOrthancBinary();
  const plugin = findDicomWebPlugin();
  const username = options.username ?? 'rtliver';
  const password = options.password ?? 'rtliver';
  let port: number;
  if (options.port === undefined) {
    port = await findFreePort();
  } else {
    port = options.port;
    await assertPortFree(port);
  }
  const kept = options.storageDir !== undefined;
  const storageDir = options.storageDir ?? mkdtempSync(join(tmpdir(), 'rt-liver-orthanc-'));
  // The configuration holds the password: readable by this user only.
  mkdirSync(storageDir, { recursive: true, mode: 0o700 });
  const configPath = join(storageDir, 'orthanc.json');
  writeFileSync(configPath, JSON.stringify(orthancConfiguration({ port, username, password, storageDir, plugin }), null, 2), { mode: 0o600 });
  chmodSync(configPath, 0o600);

  const log: string[] = [];
  const child = spawn(binary, [configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    log.push(text);
    if (log.length > 200) log.splice(0, log.length - 200);
    if (options.echoLog) process.stderr.write(text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', (error) => log.push(`spawn error: ${error.message}`));

  // If our process ends without stop() (a crash, process.exit), do not leave Orthanc running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));

  const url = `http://127.0.0.1:${port}`;
  const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await terminate(child, exited);
    if (!kept) rmSync(storageDir, { recursive: true, force: true });
  };

  try {
    await waitForSystem(url, authorization, exited, options.startTimeoutMs ?? 30000, () => log.join(''));
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, dicomWebUrl: `${url}/dicom-web`, username, password, authorization, storageDir, kept, exited, stop };
}

async function waitForSystem(url: string, authorization: string, exited: Promise<number | null>, timeoutMs: number, logText: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      const tail = logText().split('\n').slice(-15).join('\n');
      const portTaken = /address already in use|cannot bind|Cannot start the HTTP server/i.test(tail);
      throw new OrthancError(
        `Orthanc exited with code ${exitCode} while starting.${tail ? `\n${tail}\n` : ''}`,
        portTaken ? 'The HTTP port is taken: choose another (ORTHANC_PORT).' : 'See its log above.',
      );
    }
    try {
      const response = await fetch(`${url}/system`, { headers: { authorization }, signal: AbortSignal.timeout(READY_PROBE_TIMEOUT_MS) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  throw new OrthancError(`Orthanc did not answer ${url}/system within ${timeoutMs} ms.`, `Its log:\n${logText().split('\n').slice(-15).join('\n')}`);
}

async function terminate(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), TERMINATE_GRACE_MS).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

export interface UploadResult {
  /** Orthanc's instance id. */
  ID: string;
  ParentStudy: string;
  ParentSeries: string;
  ParentPatient: string;
  Status: string;
}

/** Stores one DICOM Part 10 file through the REST API (POST /instances). */
export async function uploadDicom(handle: Pick<OrthancHandle, 'url' | 'authorization'>, bytes: ArrayBuffer | Uint8Array): Promise<UploadResult> {
  // A copy backed by a plain ArrayBuffer, which is what fetch's BodyInit accepts.
  const body = bytes instanceof Uint8Array ? bytes.slice() : new Uint8Array(bytes);
  const response = await fetch(`${handle.url}/instances`, {
    method: 'POST',
    headers: { authorization: handle.authorization, 'content-type': 'application/dicom' },
    body,
  });
  const text = await response.text();
  if (!response.ok) throw new OrthancError(`Orthanc refused the upload: HTTP ${response.status} ${text.slice(0, 300)}`, 'Check that the file is DICOM Part 10 and the credentials are right.');
  return JSON.parse(text) as UploadResult;
}
