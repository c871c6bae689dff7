/**
 * QIDO wildcard matching of the static store: the same answers as an (escaped) regular expression
 * on ordinary patterns, bounded work on patterns that made the old RegExp backtrack for 22 s, and
 * over-long values refused by the store with a readable 400.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCtSeries } from '../../synthetic/ct-series-writer';
import { publishDicom } from './publish';
import { handleStoreRequest } from './store';
import { MAX_MATCH_VALUE_LENGTH, type StepCounter, wildcardMatch } from './wildcard';

/** The reference: the whole pattern escaped, then * -> .* and ? -> . (fine for short inputs). */
function reference(pattern: string, value: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return new RegExp(`^${source}$`, 'is').test(value);
}

describe('wildcardMatch', () => {
  test.each([
    ['doe*', 'Doe^John', true],
    ['*john', 'Doe^John', true],
    ['d?e^j*', 'Doe^John', true],
    ['doe', 'Doe^John', false],
    ['*', '', true],
    ['?', '', false],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['1.2.3', '1.2.3', true],
    ['1.2.3', '1x2x3', false],
    ['(.*)', '(.*)', true],
    ['[a]', 'a', false],
  ])('%s vs %s: %s', (pattern, value, expected) => {
    expect(wildcardMatch(pattern, value)).toBe(expected);
    expect(reference(pattern, value)).toBe(expected);
  });

  test('agrees with the escaped RegExp on 20,000 random short patterns and values', () => {
    let seed = 7;
    const random = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
    const letters = ['a', 'b', 'A', '^', '.', '*', '?', '\\', '('];
    const word = (max: number, withWildcards: boolean) =>
      Array.from({ length: random(max) }, () => letters[random(withWildcards ? letters.length : letters.length - 2)]).join('');
    for (let i = 0; i < 20000; i++) {
      const pattern = word(8, true);
      const value = word(10, false).replace(/[*?]/g, 'x');
      if (wildcardMatch(pattern, value) !== reference(pattern, value)) throw new Error(`${pattern} vs ${value}`);
    }
  });

  test('bounded work: at most (pattern + 1) x (value + 1) steps, the 15-star pattern included', () => {
    const value = 'Phantom^Liver Demo'.padEnd(64, 'x');
    const patterns = ['***************!', '*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', `${'*?'.repeat(100)}!`, '*'.repeat(MAX_MATCH_VALUE_LENGTH)];
    for (const pattern of patterns) {
      const counter: StepCounter = { steps: 0 };
      wildcardMatch(pattern, value, counter);
      expect(counter.steps).toBeLessThanOrEqual((pattern.length + 1) * (value.length + 1));
    }
    // Star-heavy patterns are far below the bound: the stars collapse to one.
    const counter: StepCounter = { steps: 0 };
    expect(wildcardMatch('***************!', value, counter)).toBe(false);
    expect(counter.steps).toBeLessThan(value.length * value.length);
  });
});

describe('the store search', () => {
  const work = mkdtempSync(join(tmpdir(), 'rt-liver-wildcard-'));
  const storeDir = join(work, 'store');
  beforeAll(() => {
    const voxels = new Int16Array(8 * 8 * 2);
    const series = writeCtSeries(
      { voxels, dimensions: [8, 8, 2], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] },
      { seed: 'wildcard-test', patientName: 'Phantom^Liver Demo Patient', patientID: 'W', studyDescription: 'w' },
    );
    mkdirSync(join(work, 'source'));
    for (const file of series.files) writeFileSync(join(work, 'source', file.name), new Uint8Array(file.bytes));
    publishDicom(join(work, 'source'), storeDir);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('the 15-star PatientName query answers (an empty list) instead of stalling the server', () => {
    const answer = handleStoreRequest(storeDir, '/studies', new URLSearchParams('PatientName=***************!'));
    expect(answer).toMatchObject({ status: 200, body: '[]' });
    const found = handleStoreRequest(storeDir, '/studies', new URLSearchParams('PatientName=***************demo*'));
    expect(JSON.parse(String(found.body))).toHaveLength(1);
  });

  test('values over the cap are a 400 naming the key and the limit', () => {
    const answer = handleStoreRequest(storeDir, '/studies', new URLSearchParams(`PatientName=${'*'.repeat(MAX_MATCH_VALUE_LENGTH + 1)}`));
    expect(answer.status).toBe(400);
    expect(JSON.parse(String(answer.body))).toEqual({ error: `A PatientName value is longer than ${MAX_MATCH_VALUE_LENGTH} characters.`, hint: 'Search with a shorter value or a wildcard (*).' });
    const many = handleStoreRequest(storeDir, '/studies', new URLSearchParams(`StudyInstanceUID=${Array(501).fill('1.2').join(',')}`));
    expect(many.status).toBe(400);
    expect(String(many.body)).toContain('at most 500');
  });
});
