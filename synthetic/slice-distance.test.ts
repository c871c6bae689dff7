import { FAR_MM, sliceSignedDistance } from './slice-distance';

/** Brute force: signed distance of pixel p in slice k (negative inside). */
function bruteForce(inside: Uint8Array, nx: number, ny: number, k: number, i: number, j: number, si: number, sj: number): number {
  const self = inside[i + j * nx + k * nx * ny];
  let best = Infinity;
  for (let jj = 0; jj < ny; jj++) {
    for (let ii = 0; ii < nx; ii++) {
      if (inside[ii + jj * nx + k * nx * ny] !== self) best = Math.min(best, Math.hypot((ii - i) * si, (jj - j) * sj));
    }
  }
  return self ? -best : best;
}

describe('sliceSignedDistance', () => {
  it('matches a brute-force signed distance on random shapes with anisotropic pixels', () => {
    const [nx, ny, nz] = [23, 17, 3];
    const inside = new Uint8Array(nx * ny * nz);
    let state = 12345;
    const random = () => ((state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let k = 0; k < nz; k++) {
      // A few random discs per slice.
      for (let disc = 0; disc < 3; disc++) {
        const [ci, cj, r] = [random() * nx, random() * ny, 2 + random() * 5];
        for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (Math.hypot(i - ci, (j - cj) * 1.5) < r) inside[i + j * nx + k * nx * ny] = 1;
      }
    }
    const sdf = sliceSignedDistance(inside, [nx, ny, nz], [0.8, 1.2, 5]);
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          expect(sdf[i + j * nx + k * nx * ny]).toBeCloseTo(bruteForce(inside, nx, ny, k, i, j, 0.8, 1.2), 4);
        }
      }
    }
  });

  it('closes the shape halfway into an empty neighbour slice and is far beyond', () => {
    const [nx, ny, nz] = [9, 9, 4];
    const inside = new Uint8Array(nx * ny * nz);
    inside[4 + 4 * nx + 1 * nx * ny] = 1; // one pixel in slice 1
    const sdf = sliceSignedDistance(inside, [nx, ny, nz], [1, 1, 6]);
    expect(sdf[4 + 4 * nx + 0 * nx * ny]).toBeCloseTo(3, 6); // half the 6 mm slice step above the pixel
    expect(sdf[4 + 4 * nx + 2 * nx * ny]).toBeCloseTo(3, 6);
    expect(sdf[7 + 4 * nx + 2 * nx * ny]).toBeCloseTo(6, 6); // 3 mm in-plane + 3 mm
    expect(sdf[4 + 4 * nx + 3 * nx * ny]).toBe(FAR_MM);
  });
});
