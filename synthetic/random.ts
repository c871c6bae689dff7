/**
 * Small deterministic random numbers and hashes for generated data. Everything generated in this
 * folder must be reproducible from a seed on every platform, so no Math.random and no crypto API.
 */

/**
 * Math functions bound once at module scope: under jest, code runs in a vm context where every
 * global lookup (`Math`) goes through an interceptor, which made these loops over 10x slower.
 */
const { PI, cos, floor, imul, log, sin, sqrt } = Math;

/** mulberry32: a 32-bit PRNG, fast and good enough for noise and shape jitter. Returns [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded random source with the helpers the generators need. */
export class Random {
  private readonly next: () => number;
  private spareGaussian: number | undefined;

  constructor(seed: number | string) {
    this.next = mulberry32(typeof seed === 'number' ? seed : hash32(seed));
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.next();
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number {
    return min + floor(this.next() * (max - min + 1));
  }

  /** Standard normal sample (Box-Muller, the second value kept for the next call). */
  gaussian(): number {
    if (this.spareGaussian !== undefined) {
      const spare = this.spareGaussian;
      this.spareGaussian = undefined;
      return spare;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const radius = sqrt(-2 * log(u));
    this.spareGaussian = radius * sin(2 * PI * v);
    return radius * cos(2 * PI * v);
  }

  /** Fisher-Yates shuffle of a copy. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * 128-bit non-cryptographic hash (cyrb128: four interleaved 32-bit lanes). Used to derive
 * reproducible UIDs; collisions only matter between UIDs we generate ourselves.
 */
export function hash128(text: string): bigint {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ imul(h1 ^ k, 597399067);
    h2 = h3 ^ imul(h2 ^ k, 2869860233);
    h3 = h4 ^ imul(h3 ^ k, 951274213);
    h4 = h1 ^ imul(h4 ^ k, 2716044179);
  }
  h1 = imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  const lanes = [h1, h2, h3, h4].map((h) => BigInt(h >>> 0));
  return (lanes[0] << 96n) | (lanes[1] << 64n) | (lanes[2] << 32n) | lanes[3];
}

/**
 * A DICOM UID under the `2.25` root (ISO/IEC 9834-8: the decimal form of a 128-bit number),
 * reproducible from its parts: the same seed and role always give the same UID.
 */
export function uidFromSeed(...parts: (string | number)[]): string {
  return `2.25.${hash128(parts.join('|')).toString()}`;
}
