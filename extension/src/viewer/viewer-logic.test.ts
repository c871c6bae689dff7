import { LIVER_CIELAB } from '../core/seg/codes';
import { dicomLabToRgb } from './colour';
import { MAX_SEGMENT_VOXELS, checkSlicePositions, checkVolumeSize, geometryOfHostVolume } from './ct-volume';

describe('dicomLabToRgb', () => {
  test('white, black and a saturated red come out as sRGB', () => {
    expect(dicomLabToRgb([65535, 32896, 32896])).toEqual([255, 255, 255]);
    expect(dicomLabToRgb([0, 32896, 32896])).toEqual([0, 0, 0]);
    // sRGB red is L*53.24 a*80.09 b*67.20.
    const red = dicomLabToRgb([Math.round((53.24 * 65535) / 100), Math.round(((80.09 + 128) * 65535) / 255), Math.round(((67.2 + 128) * 65535) / 255)]);
    red.forEach((c, i) => expect(Math.abs(c - [255, 0, 0][i])).toBeLessThanOrEqual(2));
  });

  test("the SEG writer's liver colour is a reddish brown", () => {
    const [r, g, b] = dicomLabToRgb(LIVER_CIELAB);
    expect(r).toBeGreaterThan(g);
    expect(g).toBeGreaterThan(b - 10);
    expect(r).toBeGreaterThan(150);
  });
});

describe('the Cornerstone3D volume as the core geometry', () => {
  const host = { dimensions: [256, 256, 96] as [number, number, number], spacing: [1.4, 1.4, 2.5] as [number, number, number], origin: [-178.5, -178.5, -118.75] as [number, number, number], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };

  test('dimensions, spacing, origin and the three direction rows map one to one', () => {
    expect(geometryOfHostVolume(host)).toEqual({
      dimensions: [256, 256, 96],
      spacing: [1.4, 1.4, 2.5],
      origin: [-178.5, -178.5, -118.75],
      direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    });
  });

  test('a broken direction or spacing is refused', () => {
    expect(() => geometryOfHostVolume({ ...host, direction: [2, 0, 0, 0, 1, 0, 0, 0, 1] })).toThrow(/not a unit vector/);
    expect(() => geometryOfHostVolume({ ...host, spacing: [1, 1, 0] })).toThrow(/spacing/);
  });

  test('image positions must match the slices the geometry describes', () => {
    const geometry = geometryOfHostVolume(host);
    const ids = Array.from({ length: 96 }, (_, k) => `img${k}`);
    const at = (k: number) => [-178.5, -178.5, -118.75 + 2.5 * k];
    expect(() => checkSlicePositions(geometry, ids, (id) => ({ imagePositionPatient: at(Number(id.slice(3))) }))).not.toThrow();
    // Reversed order: slice 0 is the top image.
    expect(() => checkSlicePositions(geometry, ids, (id) => ({ imagePositionPatient: at(95 - Number(id.slice(3))) }))).toThrow(/Image 1 of 96 lies 237\.50 mm/);
    expect(() => checkSlicePositions(geometry, ids.slice(1), () => undefined)).toThrow(/96 slices but 95 images/);
  });

  test('a CT beyond the limit is refused naming the limit; 512 x 512 x 1000 runs', () => {
    expect(() => checkVolumeSize([512, 512, 1000])).not.toThrow();
    expect(MAX_SEGMENT_VOXELS).toBe(512 * 512 * 1200);
    expect(() => checkVolumeSize([512, 512, 1500])).toThrow(/at most 512 x 512 x 1200/);
  });
});

describe('where a SEG can be stored', () => {
  test('a DICOMweb PACS takes STOW-RS at its WADO root; the static local store is read-only, with the reason', async () => {
    const { storeTargetOf } = await import('./seg-export');
    expect(storeTargetOf({ friendlyName: 'Orthanc', wadoRoot: 'http://127.0.0.1:3000/orthanc/dicom-web', staticWado: false })).toEqual({
      ok: true,
      dicomWebUrl: 'http://127.0.0.1:3000/orthanc/dicom-web',
      name: 'Orthanc',
    });
    const local = storeTargetOf({ friendlyName: 'rt-liver local studies', wadoRoot: 'http://127.0.0.1:3000/dicomweb', staticWado: true });
    expect(local).toMatchObject({ ok: false, reason: expect.stringContaining('"rt-liver local studies" is a read-only local store') });
    expect(storeTargetOf(undefined)).toMatchObject({ ok: false });
    expect(storeTargetOf({ name: 'x', wadoRoot: '/relative' })).toMatchObject({ ok: false, reason: expect.stringContaining('no DICOMweb address') });
  });
});
