/**
 * DICOM QIDO wildcard matching (PS3.18 8.3.4.4, PS3.4 C.2.2.2.4): `*` matches any run of characters,
 * `?` exactly one, case-insensitively. Written as a loop instead of a RegExp built from the user's
 * pattern: a pattern like `***************!` made the old RegExp backtrack for 22 s on a short name
 * and stall every other request. This matcher backtracks only to the last `*`, so its work is at most
 * (pattern length + 1) x (value length + 1) character steps, whatever the pattern.
 */

/** Longest query value we match; longer ones are refused (PN components are at most 64 characters). */
export const MAX_MATCH_VALUE_LENGTH = 256;

/** Counts the character steps of each call, for tests that bound the work. */
export interface StepCounter {
  steps: number;
}

export function wildcardMatch(pattern: string, value: string, counter?: StepCounter): boolean {
  const p = pattern.toLowerCase();
  const v = value.toLowerCase();
  let pi = 0;
  let vi = 0;
  // Where the last `*` was in the pattern, and where in the value its match currently ends.
  let starAt = -1;
  let starMatchEnd = 0;
  while (vi < v.length) {
    if (counter) counter.steps++;
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === v[vi]))) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      // Consecutive stars are one star.
      while (pi < p.length && p[pi] === '*') pi++;
      starAt = pi;
      starMatchEnd = vi;
    } else if (starAt >= 0) {
      // Let the last star swallow one more character and retry the rest of the pattern after it.
      starMatchEnd++;
      vi = starMatchEnd;
      pi = starAt;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
