/**
 * Our DICOM SEG judged by tools that share no code with us: dciodvfy must report no error (and only
 * explained warnings), DCMTK must parse it and render every frame, and pydicom (check_seg.py) must put
 * every frame on exactly the mask voxels, referencing the CT image at the frame's position. Inputs:
 * generated series (odd matrix, shuffled, reversed, feet-first, oblique), the real CT series in
 * ../shared/data, and dcmqi's reference SEGs, which ours must reproduce frame for frame.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gridOfSourceInstances, readSeg, writeLiverSeg } from '../../extension/src/core/seg';
import type { Volume } from '../../extension/src/core/volume';
import { describeWithSharedData } from '../support/shared-data';
import { GENERATED_CASES, TEST_ALGORITHM, TEST_DEVICE, makeSegCase, patternedEllipsoid } from './support/seg-cases';
import {
  CONFORMANCE_OUTPUT,
  EXPLAINED_DCIODVFY_WARNINGS,
  checkSegAgainstMask,
  compareSegs,
  dciodvfy,
  dcm2pnm,
  dcmdump,
  gdcminfo,
  saveMask,
} from './support/seg-tools';

jest.setTimeout(120_000);

interface PreparedCase {
  /** Folder holding the source CT files (and nothing else). */
  ctDir: string;
  files: ArrayBuffer[];
  mask: Volume<Uint8Array>;
  /** A reference SEG of the same mask by another writer (dcmqi), when there is one. */
  reference?: string;
}

function arrayBuffer(path: string): ArrayBuffer {
  const bytes = readFileSync(path);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function readFolder(folder: string): ArrayBuffer[] {
  return readdirSync(folder).sort().map((name) => arrayBuffer(join(folder, name)));
}

/** The same checks for every input: write our SEG, then let each independent tool judge it. */
function conformanceSuite(name: string, prepare: () => Promise<PreparedCase> | PreparedCase): void {
  describe(name, () => {
    const folder = join(CONFORMANCE_OUTPUT, name);
    const segPath = join(folder, 'seg.dcm');
    let prepared: PreparedCase;
    let frameCount = 0;

    beforeAll(async () => {
      rmSync(folder, { recursive: true, force: true });
      mkdirSync(folder, { recursive: true });
      prepared = await prepare();
      const result = writeLiverSeg({ sourceInstances: prepared.files, mask: prepared.mask, algorithm: TEST_ALGORITHM, device: TEST_DEVICE });
      if (result.status !== 'written') throw new Error(`${name}: the test mask is empty`);
      frameCount = result.frameCount;
      writeFileSync(segPath, new Uint8Array(result.bytes));
    });

    it('dciodvfy reports no error, and only explained warnings', () => {
      const report = dciodvfy(segPath);
      expect(report.errors).toEqual([]);
      expect(report.unexplainedWarnings).toEqual([]);
      writeFileSync(join(folder, 'dciodvfy.txt'), report.output);
    });

    it('DCMTK parses it (dcmdump) and renders every frame (dcm2pnm)', () => {
      const dump = dcmdump(segPath);
      expect(dump.output).toBe('');
      expect(dump.ok).toBe(true);
      const rendered = dcm2pnm(segPath, join(folder, 'dcmtk-frames'));
      expect(rendered.ok).toBe(true);
      expect(readdirSync(rendered.folder)).toHaveLength(frameCount);
    });

    it('GDCM reads it as a single-bit image of the source matrix with one frame per non-empty plane', () => {
      const info = gdcminfo(segPath);
      expect(info.ok).toBe(true);
      expect(info.output).toMatch(/ScalarType found\s*:SINGLEBIT/);
      // Every mask here is on its series' own grid: i along the rows (columns), j down them (rows).
      expect(info.dimensions).toEqual([prepared.mask.dimensions[0], prepared.mask.dimensions[1], frameCount]);
    });

    it('pydicom places every frame on exactly the mask voxels, referencing the CT image at its position', () => {
      const { maskPath, geometryPath } = saveMask(prepared.mask, folder);
      const report = checkSegAgainstMask({ seg: segPath, ctDir: prepared.ctDir, maskPath, geometryPath, pgmDir: join(folder, 'dcmtk-frames') });
      expect(report.errors).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.frames).toBe(frameCount);
    });

    it('matches the reference SEG of the same mask frame for frame (when there is one)', () => {
      if (!prepared.reference) return;
      const report = compareSegs(segPath, prepared.reference);
      expect(report.errors).toEqual([]);
      expect(report.frames).toBe(report.referenceFrames);
    });
  });
}

describe('SEG conformance', () => {
  it('lists a reason for every tolerated dciodvfy warning', () => {
    for (const warning of EXPLAINED_DCIODVFY_WARNINGS) expect(warning.reason.length).toBeGreaterThan(20);
  });

  describe('generated series', () => {
    for (const options of GENERATED_CASES) {
      conformanceSuite(`generated ${options.name}`, () => {
        const segCase = makeSegCase(options);
        const ctDir = join(CONFORMANCE_OUTPUT, `generated ${options.name}`, 'ct');
        mkdirSync(ctDir, { recursive: true });
        segCase.files.forEach((file, index) => writeFileSync(join(ctDir, `${index}.dcm`), new Uint8Array(file)));
        return { ctDir, files: segCase.files, mask: segCase.mask };
      });
    }
  });

  describe('real CT series of ../shared/data', () => {
    for (const series of ['crlm-ct-1004', 'crlm-ct-1006', 'pancreas-ct-cb-001']) {
      describeWithSharedData(series, ['ct', series, 'dicom'], (ctDir) => {
        conformanceSuite(`real ${series}`, () => {
          const files = readFolder(ctDir);
          const { instances: _instances, ...grid } = gridOfSourceInstances(files);
          return { ctDir, files, mask: { ...grid, voxels: patternedEllipsoid(grid) } };
        });
      });
    }
  });

  describeWithSharedData("dcmqi's reference SEGs, rewritten by us", ['ct', 'dcmqi-3slice', 'segmentations'], (segmentations) => {
    const references: Array<{ name: string; ctDir: string; reference: string }> = [
      { name: 'ct-3slice liver', ctDir: join(segmentations, 'ct-3slice'), reference: join(segmentations, 'liver.dcm') },
      { name: '23x38x3 (frames not byte-aligned)', ctDir: join(segmentations, '23x38x3', 'image'), reference: join(segmentations, '23x38x3', 'seg', 'label.seg') },
      { name: '24x38x3', ctDir: join(segmentations, '24x38x3', 'image'), reference: join(segmentations, '24x38x3', 'seg', 'label.seg') },
    ];
    // The same 23x38x3 crop as one Legacy Converted Enhanced CT file: frames reference it by frame number.
    conformanceSuite('dcmqi 23x38x3 Enhanced CT source', async () => {
      const ctDir = join(segmentations, '23x38x3', 'multiframe');
      const files = readFolder(ctDir);
      const { instances: _instances, ...grid } = gridOfSourceInstances(files);
      const { mask } = await readSeg(arrayBuffer(join(segmentations, '23x38x3', 'seg', 'label.seg')), grid);
      return { ctDir, files, mask };
    });
    for (const { name, ctDir, reference } of references) {
      conformanceSuite(`dcmqi ${name}`, async () => {
        const files = readFolder(ctDir);
        const { instances: _instances, ...grid } = gridOfSourceInstances(files);
        // Our reader takes dcmqi's SEG onto the CT grid; our writer must then give back the same frames.
        const { mask } = await readSeg(arrayBuffer(reference), grid);
        return { ctDir, files, mask, reference };
      });
    }
  });
});
