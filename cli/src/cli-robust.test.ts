/**
 * The careless user and the hostile file, end to end through `rt-liver segment` in a child process:
 * outputs over the input, existing outputs, missing folders, broken links, a full disk, inputs over
 * the size limits, blank and NaN CTs. Each ends in exit 2 with a message and a hint, no stack trace,
 * and nothing half-written under an output's name.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNifti } from '../../extension/src/core/nifti';
import { makeAbdomenPhantom } from '../../synthetic/phantom';
import { writeCtSeries } from '../../synthetic/ct-series-writer';
import type { Volume } from '../../extension/src/core/volume';

const BIN = join(__dirname, '..', 'bin', 'rt-liver.cjs');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function rtLiver(args: string[], options: { command?: string[] } = {}): Run {
  const [command, ...prefix] = options.command ?? [process.execPath];
  const child = spawnSync(command, [...prefix, BIN, 'segment', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

function expectRefused(run: Run, message: RegExp): void {
  expect(run.stderr).not.toMatch(/unexpected failure|\n\s+at /); // no stack trace
  expect(run.stderr).toMatch(message);
  expect(run.status).toBe(2);
  expect(run.stdout).toBe('');
}

let work: string;
let series: string;
let ctNifti: string;
const phantom = makeAbdomenPhantom({ seed: 'cli-robust', dimensions: [96, 80, 24], spacing: [3.5, 3.5, 8] });

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rt-liver-robust-'));
  series = join(work, 'series');
  mkdirSync(series);
  for (const file of writeCtSeries(phantom.ct, { seed: 'cli-robust' }).files) writeFileSync(join(series, file.name), new Uint8Array(file.bytes));
  ctNifti = join(work, 'ct.nii.gz');
  writeFileSync(ctNifti, new Uint8Array(writeNifti(phantom.ct, { gzip: true })));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('outputs', () => {
  it('--mask naming the input CT is refused, and the CT stays as it was', () => {
    const before = readFileSync(ctNifti);
    for (const extra of [[], ['--force']]) {
      expectRefused(rtLiver([ctNifti, '--mask', ctNifti, '-q', ...extra]), /--mask .*ct\.nii\.gz is the input itself; writing it would destroy the input\. Choose another name/);
    }
    expect(readFileSync(ctNifti).equals(before)).toBe(true);
  });

  it('an existing output is replaced only with --force', () => {
    const mask = join(work, 'existing.nii.gz');
    writeFileSync(mask, 'an earlier mask');
    expectRefused(rtLiver([ctNifti, '--mask', mask, '-q']), /--mask .*existing\.nii\.gz exists already\. Pass --force to replace it/);
    expect(readFileSync(mask, 'utf8')).toBe('an earlier mask');
    const forced = rtLiver([ctNifti, '--mask', mask, '-q', '--force', '--json']);
    expect(forced.status).toBe(0);
    expect(readFileSync(mask).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // a gzip file now
  }, 120_000);

  it('a missing output folder is refused before any work', () => {
    expectRefused(rtLiver([series, '--mask', join(work, 'no', 'folder', 'liver.nii.gz'), '-q']), /the folder .*no\/folder does not exist\. Create it first \(mkdir -p/);
  });

  it('--out for a NIfTI input is refused before the mask is written', () => {
    const mask = join(work, 'not-written.nii.gz');
    expectRefused(rtLiver([ctNifti, '--mask', mask, '--out', join(work, 'seg.dcm'), '-q']), /--out writes a DICOM SEG.*is NIfTI/);
    expect(existsSync(mask)).toBe(false);
  });

  it('a full disk leaves no output and no temporary file (a 8 kB tmpfs)', () => {
    const disk = join(work, 'full-disk');
    mkdirSync(disk);
    const mask = join(disk, 'liver.nii.gz');
    const seg = join(disk, 'liver-seg.dcm');
    // A private mount namespace: the tmpfs exists for this command only. 8 kB, half of it taken.
    const script = `mount -t tmpfs -o size=8k tmpfs "${disk}" && head -c 4096 /dev/zero > "${disk}/filler" && "$@"; status=$?; ls -a "${disk}" >&2; exit $status`;
    const run = rtLiver([series, '--mask', mask, '--out', seg, '-q'], { command: ['unshare', '--mount', 'sh', '-c', script, 'sh', process.execPath] });
    expectRefused(run, /Cannot write --(mask|out) .*nothing was written under that name.*the disk is full \(ENOSPC\)\. Free some space there/);
    // The listing of the tmpfs just before it went away: the filler only.
    expect(run.stderr).toMatch(/\.\n\.\.\nfiller\n/);
    expect(readdirSync(disk)).toEqual([]);
  }, 120_000);
});

describe('inputs', () => {
  it('a dangling link and a link loop as input are named as such', () => {
    symlinkSync(join(work, 'gone'), join(work, 'dangling'));
    expectRefused(rtLiver([join(work, 'dangling'), '-q']), /dangling is a symbolic link to .*gone, which does not exist/);
    symlinkSync(join(work, 'loop-b'), join(work, 'loop-a'));
    symlinkSync(join(work, 'loop-a'), join(work, 'loop-b'));
    expectRefused(rtLiver([join(work, 'loop-a'), '-q']), /loop-a is a symbolic link in a loop/);
  });

  it('broken links inside a DICOM folder are left out with a note', () => {
    const withLinks = join(work, 'series-with-links');
    mkdirSync(withLinks);
    for (const name of readdirSync(series)) symlinkSync(join(series, name), join(withLinks, name));
    symlinkSync(join(work, 'nowhere.dcm'), join(withLinks, 'broken.dcm'));
    symlinkSync(join(withLinks, 'self-b'), join(withLinks, 'self-a'));
    symlinkSync(join(withLinks, 'self-a'), join(withLinks, 'self-b'));
    const run = rtLiver([withLinks, '-q', '--json']);
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.input.dimensions).toEqual([96, 80, 24]);
    expect(report.warnings).toContainEqual(expect.stringMatching(/^Left out 3 symbolic link\(s\) that lead to no file: broken\.dcm \(points to .*nowhere\.dcm, which does not exist\), self-a \(a loop of links\)/));
  }, 120_000);

  it('each size limit is named with the option that raises it', () => {
    expectRefused(rtLiver([series, '-q', '--max-voxels', '100000']), /The series is 96 x 80 x 24 voxels: 184,320 voxels, over the limit of 100,000\. If the input is genuine, raise the limit: --max-voxels 184320\./);
    expectRefused(rtLiver([series, '-q', '--max-frames', '10']), /The series has 24 slices: 24 frames, over the limit of 10\. .*--max-frames 24\./);
    expectRefused(rtLiver([ctNifti, '-q', '--max-decompressed-mb', '0.1']), /ct\.nii\.gz: The NIfTI image needs 0\.4 MB once decompressed.*--max-decompressed-mb 1\./);
  });

  it('eval has the same limits, named the same way', () => {
    const child = spawnSync(process.execPath, [BIN, 'eval', ctNifti, ctNifti, '--max-voxels', '1000'], { encoding: 'utf8', timeout: 60_000 });
    expectRefused({ status: child.status, stdout: child.stdout, stderr: child.stderr }, /ct\.nii\.gz: The NIfTI image is 96 x 80 x 24 voxels: 184,320 voxels, over the limit of 1,000\. .*--max-voxels 184320\./);
  });

  it('a blank CT is refused before inference, with nothing written', () => {
    const blank = join(work, 'blank.nii.gz');
    const voxels = new Int16Array(phantom.ct.voxels.length); // all 0 HU
    writeFileSync(blank, new Uint8Array(writeNifti({ ...phantom.ct, voxels }, { gzip: true })));
    const mask = join(work, 'blank-mask.nii.gz');
    expectRefused(rtLiver([blank, '--mask', mask, '-q']), /blank\.nii\.gz: The CT is blank: every voxel has the same value \(0 HU\)\. Check that this is the CT series you meant/);
    expect(existsSync(mask)).toBe(false);
  }, 120_000);

  it('CT numbers stored without their rescale intercept (air at 0) are refused, with nothing written', () => {
    const voxels = Int16Array.from(phantom.ct.voxels, (hu) => hu + 1024);
    const unscaled = join(work, 'unscaled.nii.gz');
    writeFileSync(unscaled, new Uint8Array(writeNifti({ ...phantom.ct, voxels }, { gzip: true })));
    const mask = join(work, 'unscaled-mask.nii.gz');
    expectRefused(
      rtLiver([unscaled, '--mask', mask, '-q']),
      /unscaled\.nii\.gz: The CT's values are not Hounsfield units: its darkest region reads -?\d+(\.\d)? HU, where air reads about -1000 HU.*rescale intercept.*\. Convert it with its rescale slope and intercept applied/,
    );
    expect(existsSync(mask)).toBe(false);
  }, 120_000);

  it('NaN voxels are reported in the --json warnings', () => {
    const values = Float32Array.from(phantom.ct.voxels);
    for (let n = 0; n < 500; n++) values[n * 37] = Number.NaN;
    const withNaN: Volume<Float32Array> = { ...phantom.ct, voxels: values };
    const path = join(work, 'nan.nii.gz');
    writeFileSync(path, new Uint8Array(writeNifti(withNaN, { gzip: true })));
    const run = rtLiver([path, '-q', '--json']);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).warnings).toContainEqual(expect.stringMatching(/^500 of the CT's 184,320 voxels are not numbers \(NaN or infinite\) and were read as air/));
  }, 120_000);
});
