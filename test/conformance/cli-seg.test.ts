/**
 * The "done when": `rt-liver segment <ct-folder> --out seg.dcm` writes, for every real DICOM
 * CT series in ../shared/data/ct, a SEG that dciodvfy passes with zero errors and that pydicom places
 * on exactly the voxels of the `--mask` NIfTI the same command wrote (read by nibabel). The model may
 * be the untrained placeholder: what is checked is placement, not anatomy.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithSharedData } from '../support/shared-data';
import { CONFORMANCE_OUTPUT, REPO_ROOT, checkSegAgainstMask, dciodvfy } from './support/seg-tools';

jest.setTimeout(300_000);

/** The warnings every result carries by design: a model's caution from the manifest (models/README.md). */
const MODEL_CAUTIONS: string[] = (JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'manifest.json'), 'utf8')).models as Array<{ name: string; caution?: string }>)
  .filter((model) => model.caution)
  .map((model) => `warning: Model "${model.name}": ${model.caution}`);

/** Warnings of core/model/guard-rails.ts about the result's anatomy. */
const GUARD_RAIL_WARNING = /^warning: (The liver volume is .*implausibly|No liver was found in this CT|The liver mask reaches above the diaphragm|The series ends inside the liver)/;

function unexpectedStderr(stderr: string): string {
  return stderr
    .split('\n')
    // The guard rails judge the anatomy (volume, a mask in the chest); this test checks placement.
    .filter((line) => !MODEL_CAUTIONS.includes(line) && !/^warning: .*placeholder/.test(line) && !GUARD_RAIL_WARNING.test(line))
    .join('\n')
    .trim();
}

const REAL_DICOM_SERIES: Array<{ name: string; folder: string[] }> = [
  { name: 'crlm-ct-1004', folder: ['ct', 'crlm-ct-1004', 'dicom'] },
  { name: 'crlm-ct-1006', folder: ['ct', 'crlm-ct-1006', 'dicom'] },
  { name: 'pancreas-ct-cb-001', folder: ['ct', 'pancreas-ct-cb-001', 'dicom'] },
  { name: 'dcmqi-ct-3slice', folder: ['ct', 'dcmqi-3slice', 'segmentations', 'ct-3slice'] },
  { name: 'dcmqi-23x38x3', folder: ['ct', 'dcmqi-3slice', 'segmentations', '23x38x3', 'image'] },
  { name: 'dcmqi-23x38x3 Enhanced CT', folder: ['ct', 'dcmqi-3slice', 'segmentations', '23x38x3', 'multiframe'] },
];

describe('rt-liver segment --out: SEG of every real series', () => {
  for (const { name, folder } of REAL_DICOM_SERIES) {
    describeWithSharedData(name, folder, (ctDir) => {
      const output = join(CONFORMANCE_OUTPUT, `cli ${name}`);
      const segPath = join(output, 'seg.dcm');
      const maskPath = join(output, 'mask.nii.gz');
      let run: { status: number | null; stderr: string; stdout: string };

      beforeAll(() => {
        rmSync(output, { recursive: true, force: true });
        mkdirSync(output, { recursive: true });
        run = spawnSync(process.execPath, [join(REPO_ROOT, 'cli', 'bin', 'rt-liver.cjs'), 'segment', ctDir, '--out', segPath, '--mask', maskPath, '-q'], {
          encoding: 'utf8',
          timeout: 240_000,
        });
      });

      it('writes the SEG and the mask', () => {
        expect(unexpectedStderr(run.stderr)).toBe('');
        expect(run.status).toBe(0);
        expect(existsSync(segPath)).toBe(true);
        expect(existsSync(maskPath)).toBe(true);
      });

      it('dciodvfy: no error, only explained warnings', () => {
        const report = dciodvfy(segPath);
        expect(report.errors).toEqual([]);
        expect(report.unexplainedWarnings).toEqual([]);
      });

      it('pydicom puts every frame on exactly the voxels of --mask', () => {
        const report = checkSegAgainstMask({ seg: segPath, ctDir, nifti: maskPath });
        expect(report.errors).toEqual([]);
        expect(report.ok).toBe(true);
      });
    });
  }
});
