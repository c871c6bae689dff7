/**
 * A local PACS for the viewer and for trying STOW-RS by hand: Debian's Orthanc with DICOMweb, on
 * loopback only, with HTTP Basic auth, loaded with the demo study (generated when missing) and any
 * DICOM folders given as arguments. Runs in the foreground; Ctrl-C stops it. Its storage is kept in
 * var/orthanc across restarts (ORTHANC_STORAGE: another folder, or "temporary" for one deleted at stop).
 *
 *   npx tsx scripts/orthanc.ts [dicom-folder ...]
 *
 * Environment: ORTHANC_PORT (default 8042), ORTHANC_USER (default rtliver), ORTHANC_PASSWORD
 * (default: a random one for each start, printed), ORTHANC_STORAGE.
 */
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ensureDemoStudy, demoStudyPaths } from './data/demo-study';
import { OrthancError, startOrthanc } from './orthanc/launcher';
import { uploadFolder } from './orthanc/load-folder';

const REPO_ROOT = resolve(__dirname, '..');

async function main(): Promise<void> {
  const port = Number(process.env.ORTHANC_PORT ?? 8042);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new OrthancError(`ORTHANC_PORT=${process.env.ORTHANC_PORT} is not a port number.`, 'Use an integer from 1 to 65535.');
  const username = process.env.ORTHANC_USER ?? 'rtliver';
  // Random unless given: a well-known password on loopback is open to any page that rebinds a name to 127.0.0.1.
  const password = process.env.ORTHANC_PASSWORD || randomBytes(18).toString('base64url');
  const varDir = join(REPO_ROOT, 'var');
  const storageDir = process.env.ORTHANC_STORAGE === 'temporary' ? undefined : resolve(process.env.ORTHANC_STORAGE || join(varDir, 'orthanc'));

  const demo = ensureDemoStudy(varDir, (line) => console.log(`orthanc: ${line}`));
  const orthanc = await startOrthanc({ port, username, password, storageDir });
  const storageNote = orthanc.kept
    ? `kept in ${orthanc.storageDir} across restarts (delete it to start empty)`
    : `TEMPORARY, in ${orthanc.storageDir}, deleted when Orthanc stops`;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\northanc: ${signal}, stopping Orthanc${orthanc.kept ? ` (its storage stays in ${orthanc.storageDir})` : ' and deleting its temporary storage'}`);
    await orthanc.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  void orthanc.exited.then(async (code) => {
    if (stopping) return;
    console.error(`orthanc: Orthanc exited on its own (code ${code})${orthanc.kept ? `; its storage stays in ${orthanc.storageDir}` : '; its temporary storage is deleted'}.`);
    await orthanc.stop();
    process.exit(1);
  });

  try {
    const folders = [demoStudyPaths(varDir).seriesDir, ...process.argv.slice(2).map((folder) => resolve(folder))];
    for (const folder of folders) {
      const started = Date.now();
      const { uploaded, skipped, studies } = await uploadFolder(orthanc, folder);
      console.log(`orthanc: loaded ${uploaded} instances (${studies.size} study) from ${folder} in ${Date.now() - started} ms` +
        (skipped.length ? `; skipped ${skipped.length} non-DICOM file(s)` : ''));
    }
  } catch (error) {
    await orthanc.stop();
    throw error;
  }

  console.log(`
Orthanc is running (loopback only; Ctrl-C stops it):
  URL        ${orthanc.url}   (explorer: ${orthanc.url}/app/explorer.html)
  DICOMweb   ${orthanc.dicomWebUrl}
  user       ${username}
  password   ${password}
  storage    ${storageNote}
  demo study ${demo.studyInstanceUID}

Show it in the viewer as a second data source:
  RT_LIVER_PACS_URL=${orthanc.url} RT_LIVER_PACS_USER=${username} RT_LIVER_PACS_PASSWORD=${password} npm start
`);
}

main().catch((error: unknown) => {
  if (error instanceof OrthancError) console.error(`orthanc: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
