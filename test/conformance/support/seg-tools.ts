/**
 * The independent tools the SEG conformance suite runs (all from Debian, none of our code):
 * dciodvfy (dicom3tools), dcmdump and dcm2pnm (DCMTK), gdcminfo (GDCM) and check_seg.py (pydicom +
 * numpy).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Volume } from '../../../extension/src/core/volume';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const CONFORMANCE_OUTPUT = join(REPO_ROOT, 'var', 'conformance');
const CHECKER = join(REPO_ROOT, 'test', 'conformance', 'check_seg.py');
const PYTHON = '/usr/bin/python3';

function run(command: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new Error(`${command} could not run (${result.error.message}); run scripts/setup.sh to install it.`);
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * dciodvfy warnings that are not defects of our SEG, each with the reason. Every warning must match
 * one of these, so a new kind of warning fails the suite until it is understood and listed here.
 */
export const EXPLAINED_DCIODVFY_WARNINGS: Array<{ pattern: RegExp; reason: string }> = [
  {
    pattern: /Retired Person Name form/,
    reason:
      'Person names (PatientName, ReferringPhysicianName) copied verbatim from the source CT, which has names without "^" components (e.g. "CRLM-CT-1004", "Anonymous").',
  },
  {
    pattern: /StudyID.*needed to build DICOMDIR|needed to build DICOMDIR - Study ID/,
    reason: 'StudyID is type 2 and empty in the source CT; the SEG copies the study module as it is.',
  },
  {
    pattern: /Unrecognized defined term = <GEIIS>|Unrecognized defined term <GEIIS>/,
    reason: "ProcedureCodeSequence copied from the source CT uses GE's private coding scheme GEIIS.",
  },
];

export interface DciodvfyReport {
  errors: string[];
  warnings: string[];
  unexplainedWarnings: string[];
  output: string;
}

export function dciodvfy(path: string): DciodvfyReport {
  const { stdout, stderr } = run('dciodvfy', ['-new', path]);
  const lines = `${stdout}\n${stderr}`.split('\n').map((line) => line.trim()).filter(Boolean);
  const errors = lines.filter((line) => line.startsWith('Error'));
  const warnings = lines.filter((line) => line.startsWith('Warning'));
  const unexplainedWarnings = warnings.filter((line) => !EXPLAINED_DCIODVFY_WARNINGS.some(({ pattern }) => pattern.test(line)));
  return { errors, warnings, unexplainedWarnings, output: lines.join('\n') };
}

/** DCMTK's parser: exit status 0 and no error lines, with every element printed (+E = errors to stderr). */
export function dcmdump(path: string): { ok: boolean; output: string } {
  const { status, stdout, stderr } = run('dcmdump', ['+E', '-q', path]);
  return { ok: status === 0 && !/^E:/m.test(stderr) && stdout.includes('SegmentSequence'), output: stderr };
}

/** Renders every frame with DCMTK's dcm2pnm as folder/f.<n>.pgm; the folder is returned. */
export function dcm2pnm(path: string, folder: string): { ok: boolean; folder: string; output: string } {
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  const { status, stderr } = run('dcm2pnm', ['+Fa', '+op', path, join(folder, 'f')]);
  return { ok: status === 0, folder, output: stderr };
}

/** GDCM's reading of the image: exit status and the dimensions it found (columns, rows, frames). */
export function gdcminfo(path: string): { ok: boolean; dimensions?: number[]; output: string } {
  const { status, stdout, stderr } = run('gdcminfo', [path]);
  const match = /^Dimensions: \(([\d,]+)\)/m.exec(stdout);
  return { ok: status === 0, dimensions: match?.[1].split(',').map(Number), output: stdout + stderr };
}

export interface CheckerReport {
  ok: boolean;
  errors: string[];
  frames?: number;
  voxels?: number;
  referenceFrames?: number;
}

function checker(args: string[]): CheckerReport {
  const { stdout, stderr } = run(PYTHON, [CHECKER, ...args]);
  try {
    return JSON.parse(stdout.trim().split('\n').pop() ?? '') as CheckerReport;
  } catch {
    return { ok: false, errors: [`check_seg.py gave no report: ${stderr || stdout}`] };
  }
}

/** Writes the mask (raw bytes + geometry JSON) where the Python checker reads it. */
export function saveMask(mask: Volume<Uint8Array>, folder: string): { maskPath: string; geometryPath: string } {
  mkdirSync(folder, { recursive: true });
  const maskPath = join(folder, 'mask.u8');
  const geometryPath = join(folder, 'mask.json');
  writeFileSync(maskPath, mask.voxels);
  const { dimensions, origin, spacing, direction } = mask;
  writeFileSync(geometryPath, JSON.stringify({ dimensions, origin, spacing, direction }));
  return { maskPath, geometryPath };
}

/** The mask is raw bytes + geometry JSON (saveMask), or a NIfTI file (`nifti`, read by nibabel). */
export function checkSegAgainstMask(options: {
  seg: string;
  ctDir: string;
  maskPath?: string;
  geometryPath?: string;
  nifti?: string;
  pgmDir?: string;
}): CheckerReport {
  const args = ['mask', '--seg', options.seg, '--ct-dir', options.ctDir];
  if (options.nifti) args.push('--nifti', options.nifti);
  else args.push('--mask', options.maskPath ?? '', '--geometry', options.geometryPath ?? '');
  if (options.pgmDir) args.push('--pgm-dir', options.pgmDir);
  return checker(args);
}

export function compareSegs(seg: string, reference: string): CheckerReport {
  return checker(['compare', '--seg', seg, '--reference', reference]);
}
