/**
 * Pixel decoding for every transfer syntax CT scanners send. Series written by our CT writer are
 * transcoded by independent tools (DCMTK, GDCM), read back, and compared with the HU written.
 * The WASM codecs are located explicitly (bytes, or a path), as the browser worker does with URLs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureNodeWasmCodecs, nodeWasmPath } from '../../../../cli/src/io/node-wasm';
import { writeCtSeries, writePart10, type PixelStorage } from '../../../../synthetic/ct-series-writer';
import type { Vec3, Volume } from '../volume';
import { RtLiverError } from '../errors';
import { configureWasmCodecs } from './codecs/wasm-codecs';
import { parseDicomInstances, readDicomSeries, type DicomFileBytes } from './index';

const workDir = mkdtempSync(join(tmpdir(), 'rt-liver-transfer-syntax-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
beforeAll(() => configureNodeWasmCodecs());

/** 23x38x3 (odd width) with HU from -1024 to 3071 in a pattern that compresses imperfectly. */
function ctVolume(): Volume<Int16Array> {
  const dimensions: Vec3 = [23, 38, 3];
  const voxels = new Int16Array(23 * 38 * 3);
  for (let index = 0; index < voxels.length; index++) voxels[index] = ((index * 7919) % 4096) - 1024;
  return { voxels, dimensions, spacing: [0.7, 0.7, 2.5], origin: [46.4, 5.0, -177.75], direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };
}

function writeFolder(name: string, files: { name: string; bytes: ArrayBuffer }[]): string {
  const folder = join(workDir, name);
  execFileSync('mkdir', ['-p', folder]);
  for (const file of files) writeFileSync(join(folder, file.name), new Uint8Array(file.bytes));
  return folder;
}

function transcode(source: string, target: string, tool: string, args: string[]): DicomFileBytes[] {
  execFileSync('mkdir', ['-p', target]);
  return readdirSync(source).map((name) => {
    execFileSync(tool, [...args, join(source, name), join(target, name)], { stdio: 'pipe' });
    const bytes = readFileSync(join(target, name));
    return { name, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  });
}

const LOSSLESS: [string, string, string, string[]][] = [
  ['Implicit VR Little Endian', '1.2.840.10008.1.2', 'dcmconv', ['+ti']],
  ['Explicit VR Big Endian', '1.2.840.10008.1.2.2', 'dcmconv', ['+tb']],
  ['Deflated Explicit VR Little Endian', '1.2.840.10008.1.2.1.99', 'dcmconv', ['+td']],
  ['RLE Lossless', '1.2.840.10008.1.2.5', 'dcmcrle', []],
  ['JPEG Lossless SV1', '1.2.840.10008.1.2.4.70', 'dcmcjpeg', ['+e1']],
  ['JPEG Lossless process 14', '1.2.840.10008.1.2.4.57', 'dcmcjpeg', ['+el']],
  ['JPEG-LS Lossless', '1.2.840.10008.1.2.4.80', 'dcmcjpls', ['+el']],
  ['JPEG 2000 Lossless', '1.2.840.10008.1.2.4.90', 'gdcmconv', ['--j2k']],
];

describe.each<[PixelStorage]>([['int16'], ['uint16-intercept-1024']])('lossless transfer syntaxes, %s storage', (storage) => {
  const source = ctVolume();
  const folder = writeFolder(`source-${storage}`, writeCtSeries(source, { seed: `ts-${storage}`, pixelStorage: storage, instanceNumbers: 'shuffled' }).files);

  test.each(LOSSLESS)('%s decodes to the exact HU written', async (_name, uid, tool, args) => {
    const input = transcode(folder, join(workDir, `${storage}-${uid}`), tool, args);
    expect(parseDicomInstances(input).instances.map((instance) => instance.transferSyntaxUID)).toEqual([uid, uid, uid]);
    const result = await readDicomSeries(input);
    expect(Array.from(result.volume.voxels)).toEqual(Array.from(source.voxels));
  });
});

describe('lossy transfer syntaxes', () => {
  test('JPEG-LS near-lossless (NEAR 2) stays within 2 HU', async () => {
    const source = ctVolume();
    const folder = writeFolder('near', writeCtSeries(source, { seed: 'near', pixelStorage: 'uint16-intercept-1024' }).files);
    const input = transcode(folder, join(workDir, 'near-out'), 'dcmcjpls', ['+en']);
    expect(parseDicomInstances(input).instances[0].transferSyntaxUID).toBe('1.2.840.10008.1.2.4.81');
    const { volume } = await readDicomSeries(input);
    const worst = volume.voxels.reduce((max, hu, index) => Math.max(max, Math.abs(hu - source.voxels[index])), 0);
    expect(worst).toBeLessThanOrEqual(2);
  });

  test('JPEG baseline (8-bit) matches DCMTK\'s own decoding within 1 grey level', async () => {
    // Baseline JPEG holds 8-bit samples only: an 8-bit CT with RescaleIntercept maps them to HU.
    const folder = join(workDir, 'baseline-source');
    execFileSync('mkdir', ['-p', folder]);
    for (let k = 0; k < 3; k++) {
      const pixels = new Uint8Array(32 * 24);
      for (let p = 0; p < pixels.length; p++) pixels[p] = 60 + Math.round(50 * Math.sin(p / 9 + k)) + (p % 32);
      const uid = `2.25.7000${k}`;
      const bytes = writePart10(
        {
          SOPClassUID: '1.2.840.10008.5.1.4.1.1.2', SOPInstanceUID: uid, Modality: 'CT', StudyInstanceUID: '2.25.71',
          SeriesInstanceUID: '2.25.72', FrameOfReferenceUID: '2.25.73', ImagePositionPatient: ['0', '0', String(3 * k)],
          ImageOrientationPatient: ['1', '0', '0', '0', '1', '0'], PixelSpacing: ['0.8', '0.8'], SamplesPerPixel: 1,
          PhotometricInterpretation: 'MONOCHROME2', Rows: 24, Columns: 32, BitsAllocated: 8, BitsStored: 8, HighBit: 7,
          PixelRepresentation: 0, RescaleIntercept: '-100', RescaleSlope: '2', PixelData: [pixels.buffer], _vrMap: { PixelData: 'OB' },
        },
        uid,
      );
      writeFileSync(join(folder, `b${k}.dcm`), new Uint8Array(bytes));
    }
    const input = transcode(folder, join(workDir, 'baseline'), 'dcmcjpeg', ['+eb']);
    expect(parseDicomInstances(input).instances[0].transferSyntaxUID).toBe('1.2.840.10008.1.2.4.50');
    const reference = await readDicomSeries(transcode(join(workDir, 'baseline'), join(workDir, 'baseline-dcmtk'), 'dcmdjpeg', []));
    const { volume } = await readDicomSeries(input);
    const worst = volume.voxels.reduce((max, hu, index) => Math.max(max, Math.abs(hu - reference.volume.voxels[index])), 0);
    expect(worst).toBeLessThanOrEqual(2); // 1 grey level x RescaleSlope 2
    expect(volume.voxels.some((hu) => hu !== 0)).toBe(true);
  });
});

describe('WASM codec location', () => {
  test('a file path per codec (what Node passes) works as well as the bytes', async () => {
    configureWasmCodecs((codec) => nodeWasmPath(codec));
    const source = ctVolume();
    const folder = writeFolder('by-path', writeCtSeries(source, { seed: 'by-path' }).files);
    const input = transcode(folder, join(workDir, 'by-path-jls'), 'dcmcjpls', ['+el']);
    const { volume } = await readDicomSeries(input);
    expect(Array.from(volume.voxels)).toEqual(Array.from(source.voxels));
  });

  test('a wrong location fails with a decode error naming the file, not a hang', async () => {
    configureWasmCodecs(() => new Uint8Array([0, 1, 2, 3]));
    const source = ctVolume();
    const folder = writeFolder('bad-wasm', writeCtSeries(source, { seed: 'bad-wasm' }).files);
    const input = transcode(folder, join(workDir, 'bad-wasm-j2k'), 'gdcmconv', ['--j2k']);
    await expect(readDicomSeries(input)).rejects.toThrow(/Could not decode the pixels of .*JPEG 2000/);
    configureWasmCodecs((codec) => nodeWasmPath(codec));
  });
});

test('an unsupported transfer syntax is named', async () => {
  const source = ctVolume();
  const folder = writeFolder('unsupported', writeCtSeries(source, { seed: 'unsupported' }).files);
  const input = transcode(folder, join(workDir, 'unsupported-ee'), 'dcmcjpeg', ['+ee']); // JPEG extended 12-bit
  await expect(readDicomSeries(input)).rejects.toMatchObject({
    code: 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX',
    message: expect.stringMatching(/JPEG Extended \(Process 2 & 4, 12-bit lossy\) \(1\.2\.840\.10008\.1\.2\.4\.51\), which rt-liver cannot decode/),
    hint: expect.stringMatching(/Transcode/),
  });
});

test('data sets without the Part-10 preamble and meta header (old exports) are read', async () => {
  const source = ctVolume();
  const folder = writeFolder('raw', writeCtSeries(source, { seed: 'raw' }).files);
  for (const [name, args] of [['implicit', ['+ti', '-F']], ['explicit', ['+te', '-F']]] as const) {
    const input = transcode(folder, join(workDir, `raw-${name}`), 'dcmconv', [...args]);
    expect(new TextDecoder().decode(input[0].bytes.slice(128, 132))).not.toBe('DICM');
    const { volume } = await readDicomSeries(input);
    expect(Array.from(volume.voxels)).toEqual(Array.from(source.voxels));
  }
});

test('corrupted compressed frames fail as RtLiverErrors, and the WASM decoders keep working afterwards', async () => {
  const source = ctVolume();
  const folder = writeFolder('corrupt-source', writeCtSeries(source, { seed: 'corrupt' }).files);
  for (const [label, tool, args] of [['jls', 'dcmcjpls', ['+el']], ['j2k', 'gdcmconv', ['--j2k']]] as const) {
    const good = transcode(folder, join(workDir, `corrupt-${label}`), tool, [...args]);
    let state = 99;
    const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let trial = 0; trial < 30; trial++) {
      const bad = new Uint8Array(good[1].bytes).slice();
      const start = bad.length - 1 - Math.floor(random() * Math.min(1500, bad.length - 400));
      for (let b = 0; b < 6 && start + b < bad.length; b++) bad[start + b] = Math.floor(random() * 256);
      try {
        await readDicomSeries(good.map((file, k) => (k === 1 ? { name: file.name, bytes: bad } : file)));
      } catch (error) {
        expect(error).toBeInstanceOf(RtLiverError);
      }
    }
    const { volume } = await readDicomSeries(good);
    expect(Array.from(volume.voxels)).toEqual(Array.from(source.voxels));
  }
}, 120_000);
