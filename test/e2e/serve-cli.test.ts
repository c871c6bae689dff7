/**
 * The start command's server process as a user runs it (`npx tsx scripts/serve.ts`, what
 * `npm start` ends with): it prints the URL when ready, and a port already in use gives a message
 * that names the port and how to choose another, not a stack trace.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { Server, createServer } from 'node:http';
import { listen } from '../../scripts/server/app';
import { REPO_ROOT, buildPlugins } from './viewer-fixture';

jest.setTimeout(120_000);

function startServe(port: number): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let text = '';
  // node itself (not npx) so that a signal reaches the server process.
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/serve.ts'], { cwd: REPO_ROOT, env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' } });
  child.stdout?.on('data', (chunk) => (text += chunk));
  child.stderr?.on('data', (chunk) => (text += chunk));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, output: () => text, exited };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe, 0, '127.0.0.1');
  await new Promise((done) => probe.close(done));
  return port;
}

beforeAll(() => buildPlugins());

test('prints the URL when ready and serves the viewer there', async () => {
  const port = await freePort();
  const started = Date.now();
  const serve = startServe(port);
  try {
    while (!serve.output().includes('rt-liver: open ')) {
      if (serve.child.exitCode !== null) throw new Error(`serve exited early:\n${serve.output()}`);
      await new Promise((done) => setTimeout(done, 100));
    }
    console.log(`serve: ready ${Date.now() - started} ms after spawn (store already published)`);
    expect(serve.output()).toContain(`rt-liver: open http://127.0.0.1:${port}`);
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  } finally {
    serve.child.kill('SIGTERM');
    await serve.exited;
  }
});

test('a port in use: says which, and how to choose another', async () => {
  const blocker: Server = createServer();
  const port = await listen(blocker, 0, '127.0.0.1');
  try {
    const serve = startServe(port);
    expect(await serve.exited).toBe(1);
    expect(serve.output()).toContain(`rt-liver: Port ${port} is already in use`);
    expect(serve.output()).toContain(`PORT=${port + 1} npm start`);
    expect(serve.output()).not.toMatch(/\n\s+at /); // no stack trace
  } finally {
    await new Promise((done) => blocker.close(done));
  }
});
