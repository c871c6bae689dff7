/**
 * Outputs are checked before any work and written whole or not at all: never over the input, never
 * over an existing file without --force, never through a broken or looping link; a full disk (an
 * injected ENOSPC half-way through a write) leaves no file under the final name and no temporary one.
 */
import * as fs from 'node:fs';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtLiverError } from '../../extension/src/core/errors';
import { OutputWriter, planOutputs, type OutputIo } from './outputs';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'rt-liver-outputs-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function planError(path: string, input: string, force = false): RtLiverError {
  try {
    planOutputs([{ option: '--mask', path }], input, { force });
  } catch (error) {
    if (error instanceof RtLiverError) return error;
    throw error;
  }
  throw new Error(`expected ${path} to be refused`);
}

test('the input itself is never an output, with or without --force (also through a link)', () => {
  const ct = join(root, 'ct.nii.gz');
  writeFileSync(ct, 'the input CT');
  for (const force of [false, true]) expect(planError(ct, ct, force).code).toBe('OUTPUT_IS_INPUT');
  symlinkSync(ct, join(root, 'alias.nii.gz'));
  expect(planError(join(root, 'alias.nii.gz'), ct, true).code).toBe('OUTPUT_IS_INPUT');
  // A file of the input folder is the input too.
  mkdirSync(join(root, 'series'));
  writeFileSync(join(root, 'series', 'CT0001.dcm'), 'a slice');
  expect(planError(join(root, 'series', 'CT0001.dcm'), join(root, 'series'), true).message).toMatch(/a file of the input folder/);
  expect(readFileSync(ct, 'utf8')).toBe('the input CT');
});

test('an existing file is replaced only with --force', () => {
  const mask = join(root, 'liver.nii.gz');
  writeFileSync(mask, 'earlier mask');
  const error = planError(mask, join(root, 'ct.nii.gz'));
  expect(error.code).toBe('OUTPUT_EXISTS');
  expect(error.hint).toMatch(/--force/);
  const [planned] = planOutputs([{ option: '--mask', path: mask }], join(root, 'ct.nii.gz'), { force: true });
  expect(planned.replaces).toBe(true);
});

test('a missing folder, a folder, a dangling link and a link loop are refused with what to do', () => {
  const input = join(root, 'ct.nii.gz');
  const missing = planError(join(root, 'no', 'such', 'liver.nii.gz'), input);
  expect(missing.code).toBe('OUTPUT_FOLDER_MISSING');
  expect(missing.hint).toMatch(/mkdir -p/);
  expect(planError(root, input).code).toBe('OUTPUT_IS_FOLDER');
  expect(planError(`${root}/`, input).code).toBe('OUTPUT_IS_FOLDER');
  symlinkSync(join(root, 'gone.nii.gz'), join(root, 'dangling.nii.gz'));
  expect(planError(join(root, 'dangling.nii.gz'), input, true).message).toMatch(/symbolic link to .*gone\.nii\.gz, which does not exist/);
  symlinkSync(join(root, 'loop-b'), join(root, 'loop-a'));
  symlinkSync(join(root, 'loop-a'), join(root, 'loop-b'));
  expect(planError(join(root, 'loop-a'), input, true).code).toBe('OUTPUT_LINK_LOOP');
  writeFileSync(join(root, 'file'), '');
  expect(planError(join(root, 'file', 'liver.nii.gz'), input).code).toBe('OUTPUT_FOLDER_MISSING');
});

test('--mask and --out cannot name one file', () => {
  expect(() =>
    planOutputs([{ option: '--mask', path: join(root, 'x.nii') }, { option: '--out', path: join(root, '.', 'x.nii') }], join(root, 'ct')),
  ).toThrow(/--mask and --out name the same file/);
});

test('an existing link to a file is written through (the link stays a link)', () => {
  writeFileSync(join(root, 'real.nii'), 'old');
  symlinkSync(join(root, 'real.nii'), join(root, 'link.nii'));
  const [planned] = planOutputs([{ option: '--mask', path: join(root, 'link.nii') }], join(root, 'ct'), { force: true });
  const writer = new OutputWriter();
  writer.stage(planned, new TextEncoder().encode('new'));
  writer.commit();
  expect(fs.lstatSync(join(root, 'link.nii')).isSymbolicLink()).toBe(true);
  expect(readFileSync(join(root, 'real.nii'), 'utf8')).toBe('new');
});

/** node:fs, except that writes stop with ENOSPC after `budget` bytes (the rest of a full disk). */
function fullDiskAfter(budget: number): OutputIo {
  let written = 0;
  return {
    ...fs,
    writeSync: ((fd: number, buffer: Uint8Array, offset: number, length: number) => {
      if (written + length > budget) {
        const room = Math.max(0, budget - written);
        if (room > 0) fs.writeSync(fd, buffer, offset, room);
        written += room;
        if (room > 0) return room;
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
      }
      written += length;
      return fs.writeSync(fd, buffer, offset, length);
    }) as OutputIo['writeSync'],
  };
}

test('a full disk half-way through the second output leaves neither output nor a temporary file', () => {
  const planned = planOutputs(
    [{ option: '--mask', path: join(root, 'liver.nii.gz') }, { option: '--out', path: join(root, 'liver-seg.dcm') }],
    join(root, 'ct'),
  );
  const writer = new OutputWriter(fullDiskAfter(1500));
  writer.stage(planned[0], new Uint8Array(1000));
  let error: unknown;
  try {
    writer.stage(planned[1], new Uint8Array(1000));
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(RtLiverError);
  expect((error as RtLiverError).code).toBe('FS_ENOSPC');
  expect((error as RtLiverError).message).toMatch(/--out .*liver-seg\.dcm.*nothing was written under that name.*the disk is full/);
  expect((error as RtLiverError).hint).toMatch(/Free some space/);
  expect(readdirSync(root)).toEqual([]);
});

test('an output is written only on commit, under its name, in full', () => {
  const [planned] = planOutputs([{ option: '--mask', path: join(root, 'liver.nii') }], join(root, 'ct'));
  const writer = new OutputWriter();
  const bytes = new Uint8Array(100_000).map((_, index) => index % 251);
  writer.stage(planned, bytes);
  expect(readdirSync(root).filter((name) => name === 'liver.nii')).toEqual([]);
  writer.commit();
  expect(readdirSync(root)).toEqual(['liver.nii']);
  expect(new Uint8Array(readFileSync(join(root, 'liver.nii')))).toEqual(bytes);
});

test('a file that appears between the check and the commit is not replaced', () => {
  const [planned] = planOutputs([{ option: '--mask', path: join(root, 'liver.nii') }], join(root, 'ct'));
  const writer = new OutputWriter();
  writer.stage(planned, new Uint8Array(10));
  writeFileSync(join(root, 'liver.nii'), 'someone else');
  expect(() => writer.commit()).toThrow(expect.objectContaining({ message: expect.stringMatching(/already exists/), hint: expect.stringMatching(/--force/) }));
  expect(readFileSync(join(root, 'liver.nii'), 'utf8')).toBe('someone else');
  expect(readdirSync(root)).toEqual(['liver.nii']);
});
