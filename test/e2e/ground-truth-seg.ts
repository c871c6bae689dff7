/**
 * The SEG both SEG e2e tests open: our writer's SEG of the demo phantom's ground-truth liver mask,
 * stored with our STOW-RS client in a real Orthanc (Basic auth) behind the viewer's proxy, before
 * any page opens the study (so the viewer's first query already lists it). Also what the viewer
 * must show for it: the mask's liver pixels on each CT image.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readNifti } from '../../extension/src/core/nifti';
import { stowInstances, writeLiverSeg } from '../../extension/src/core/seg';
import type { Volume } from '../../extension/src/core/volume';
import { demoStudyPaths, ensureDemoStudy } from '../../scripts/data/demo-study';
import { type PlaneStats, planeStats } from './seg-in-page';
import { type PacsViewerHarness, REPO_ROOT, startPacsViewerHarness } from './viewer-fixture';

export interface GroundTruthSegOptions {
  /** The Orthanc's Basic-auth credentials and the PACS's name in the viewer. */
  username: string;
  password: string;
  pacsName: string;
  seriesDescription: string;
}

export interface GroundTruthSeg {
  harness: PacsViewerHarness;
  studyUid: string;
  segSeriesUid: string;
  maskVoxelCount: number;
  /** The ground-truth mask's liver pixels on each CT image (by SOPInstanceUID). */
  maskBySourceInstance: Record<string, PlaneStats>;
}

export async function storeGroundTruthSeg(options: GroundTruthSegOptions): Promise<GroundTruthSeg> {
  const varDir = join(REPO_ROOT, 'var');
  const demo = ensureDemoStudy(varDir);
  const paths = demoStudyPaths(varDir);

  // The demo's ground-truth mask is on the CT grid already: no resampling.
  const mask = readNifti(readFileSync(paths.liverMask)) as Volume;
  const maskVoxels = Uint8Array.from(mask.voxels as ArrayLike<number>, (v) => (v ? 1 : 0));
  const maskVoxelCount = maskVoxels.reduce((sum, v) => sum + v, 0);
  expect(maskVoxelCount).toBeGreaterThan(1000);
  const [nx, ny, nz] = mask.dimensions;
  expect(demo.sopInstanceUIDs).toHaveLength(nz);
  const maskBySourceInstance = Object.fromEntries(
    demo.sopInstanceUIDs.map((sop, k) => [sop, planeStats(maskVoxels.subarray(k * nx * ny, (k + 1) * nx * ny))]),
  );
  const ctFiles = readdirSync(paths.seriesDir).map((name) => {
    const bytes = readFileSync(join(paths.seriesDir, name));
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  });
  const seg = writeLiverSeg({
    sourceInstances: ctFiles,
    mask: { ...mask, voxels: maskVoxels },
    algorithm: { name: 'ground-truth', version: 'phantom' },
    device: { manufacturer: 'rt-liver', modelName: 'rt-liver e2e', softwareVersions: '0.1.0', serialNumber: 'none' },
    seriesDescription: options.seriesDescription,
  });
  if (seg.status !== 'written') throw new Error(`no SEG written: ${JSON.stringify(seg)}`);

  const harness = await startPacsViewerHarness({ seriesDir: paths.seriesDir, username: options.username, password: options.password, name: options.pacsName });
  try {
    expect(harness.uploaded).toBe(ctFiles.length);
    const stored = await stowInstances([seg.bytes], {
      dicomWebUrl: harness.orthanc.dicomWebUrl,
      authorization: harness.orthanc.authorization,
      studyInstanceUID: demo.studyInstanceUID,
    });
    expect(stored.storedSopInstanceUIDs).toEqual([seg.sopInstanceUID]);
  } catch (error) {
    await harness.close(); // the caller never gets it to close
    throw error;
  }
  return { harness, studyUid: demo.studyInstanceUID, segSeriesUid: seg.seriesInstanceUID, maskVoxelCount, maskBySourceInstance };
}
