/**
 * The local Orthanc of `npm run start:pacs` and scripts/orthanc.ts keeps what it stored (a SEG sent
 * from the viewer) across restarts when given a storage folder, and its configuration, which holds
 * the password, is readable by its owner only.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCtSeries } from '../../synthetic/ct-series-writer';
import { startOrthanc, uploadDicom } from './launcher';

jest.setTimeout(120_000);

test('a kept storage folder survives stop() and a restart; the configuration is private', async () => {
  const work = mkdtempSync(join(tmpdir(), 'rt-liver-orthanc-kept-'));
  const storageDir = join(work, 'var', 'orthanc');
  try {
    const series = writeCtSeries(
      { voxels: new Int16Array(8 * 8), dimensions: [8, 8, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] },
      { seed: 'orthanc-kept', patientName: 'Kept^Storage', patientID: 'KEPT', studyDescription: 'kept' },
    );
    const first = await startOrthanc({ storageDir, password: 'first-password' });
    expect(first.kept).toBe(true);
    const stored = await uploadDicom(first, series.files[0].bytes);
    expect((statSync(join(storageDir, 'orthanc.json')).mode & 0o777).toString(8)).toBe('600');
    expect((statSync(storageDir).mode & 0o777).toString(8)).toBe('700');
    // WebDAV is off: the storage is reachable through DICOMweb and REST only.
    expect((await fetch(`${first.url}/webdav/`, { headers: { authorization: first.authorization } })).status).not.toBe(200);
    await first.stop();
    expect(statSync(join(storageDir, 'orthanc.json')).isFile()).toBe(true);

    // A new password at the next start (as start:pacs draws one), the same data.
    const second = await startOrthanc({ storageDir, password: 'second-password' });
    try {
      const response = await fetch(`${second.url}/instances`, { headers: { authorization: second.authorization } });
      expect(await response.json()).toEqual([stored.ID]);
      const old = await fetch(`${second.url}/instances`, { headers: { authorization: first.authorization } });
      expect(old.status).toBe(401);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
