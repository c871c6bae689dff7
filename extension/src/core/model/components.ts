/**
 * Connected components of a binary volume held as runs (maximal stretches of foreground along i, row
 * by row) with union-find. A liver mask at 512x512 has a few runs per row, so the work is on ~1e5 runs
 * instead of ~1e7 voxels. Post-processing gets its runs straight from the upsampling and never builds
 * a voxel mask of the box; the mask-based functions below (keepLargestComponent, fillHoles) wrap the
 * same code for tests and other callers.
 *
 * Used for: the largest 26-connected foreground component, and hole filling (background components,
 * 4-connected within a slice or 6-connected in 3-D, that do not touch the border).
 */
import type { Vec3 } from '../volume';

/** Runs of one value in a volume of dims [nx, ny, nz]; rows r = j + k * ny in order. */
export interface Runs {
  start: Int32Array;
  /** Inclusive. */
  end: Int32Array;
  /** rowFirst[r] .. rowFirst[r + 1] - 1 are the runs of row r. */
  rowFirst: Int32Array;
  count: number;
}

/** Collects runs row by row: call beginRow(r) for every row r in increasing order, then finish(). */
export class RunsBuilder {
  private start: Int32Array;
  private end: Int32Array;
  private readonly rowFirst: Int32Array;
  private count = 0;
  private nextRow = 0;

  constructor(private readonly rows: number, capacity = Math.max(1024, rows * 2)) {
    this.start = new Int32Array(capacity);
    this.end = new Int32Array(capacity);
    this.rowFirst = new Int32Array(rows + 1);
  }

  beginRow(row: number): void {
    // Rows without runs are skipped over: each gets an empty range.
    while (this.nextRow <= row) this.rowFirst[this.nextRow++] = this.count;
  }

  push(start: number, end: number): void {
    if (this.count === this.start.length) {
      const grownStart = new Int32Array(this.count * 2);
      const grownEnd = new Int32Array(this.count * 2);
      grownStart.set(this.start);
      grownEnd.set(this.end);
      this.start = grownStart;
      this.end = grownEnd;
    }
    this.start[this.count] = start;
    this.end[this.count] = end;
    this.count++;
  }

  finish(): Runs {
    this.beginRow(this.rows - 1);
    this.rowFirst[this.rows] = this.count;
    return { start: this.start, end: this.end, rowFirst: this.rowFirst, count: this.count };
  }
}

/** Total voxels in the runs. */
export function runVoxels(runs: Runs): number {
  let total = 0;
  for (let r = 0; r < runs.count; r++) total += runs.end[r] - runs.start[r] + 1;
  return total;
}

/** Runs of voxels equal to `value` (0 or 1), row by row. The mask holds only 0 and 1. */
export function findRuns(mask: Uint8Array, dims: Vec3, value: 0 | 1): Runs {
  const [nx, ny, nz] = dims;
  const rows = ny * nz;
  const builder = new RunsBuilder(rows);
  const other = value === 1 ? 0 : 1;
  for (let row = 0; row < rows; row++) {
    builder.beginRow(row);
    // Native indexOf scans bytes far faster than a JS loop; the subarray bounds it to this row.
    const line = mask.subarray(row * nx, (row + 1) * nx);
    let i = 0;
    while (i < nx) {
      const runStart = line.indexOf(value, i);
      if (runStart === -1) break;
      let runEnd = line.indexOf(other, runStart);
      if (runEnd === -1) runEnd = nx;
      builder.push(runStart, runEnd - 1);
      i = runEnd;
    }
  }
  return builder.finish();
}

/** Writes `value` over every voxel of the runs. */
export function paintRuns(mask: Uint8Array, dims: Vec3, runs: Runs, value: 0 | 1 = 1): void {
  const [nx, ny, nz] = dims;
  for (let row = 0; row < ny * nz; row++) {
    for (let r = runs.rowFirst[row]; r < runs.rowFirst[row + 1]; r++) {
      mask.fill(value, row * nx + runs.start[r], row * nx + runs.end[r] + 1);
    }
  }
}

function findRoot(parent: Int32Array, x: number): number {
  let root = x;
  while (parent[root] !== root) root = parent[root];
  while (parent[x] !== root) {
    const next = parent[x];
    parent[x] = root;
    x = next;
  }
  return root;
}

function union(parent: Int32Array, a: number, b: number): void {
  const ra = findRoot(parent, a);
  const rb = findRoot(parent, b);
  if (ra !== rb) parent[ra < rb ? rb : ra] = ra < rb ? ra : rb;
}

/**
 * Neighbour rows already visited, as (dj, dk), for scanning rows in order k, then j.
 *  - 'slice4': 4-connected within each k slice.
 *  - 'face6': 6-connected in 3-D.
 *  - 'full26': 26-connected in 3-D (runs also touch diagonally along i).
 */
export type Connectivity = 'slice4' | 'face6' | 'full26';

const PREVIOUS_ROWS: Record<Connectivity, [number, number][]> = {
  slice4: [[-1, 0]],
  face6: [
    [-1, 0],
    [0, -1],
  ],
  full26: [
    [-1, 0],
    [-1, -1],
    [0, -1],
    [1, -1],
  ],
};

interface Labelled {
  runs: Runs;
  parent: Int32Array;
}

function labelRuns(runs: Runs, dims: Vec3, connectivity: Connectivity): Labelled {
  const [, ny, nz] = dims;
  const parent = new Int32Array(runs.count);
  for (let r = 0; r < runs.count; r++) parent[r] = r;
  // 26-connectivity joins runs that touch diagonally: [s, e] meets [s', e'] when s <= e' + 1 and s' <= e + 1.
  const slack = connectivity === 'full26' ? 1 : 0;
  const neighbours = PREVIOUS_ROWS[connectivity];
  const { rowFirst } = runs;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = j + k * ny;
      if (rowFirst[row] === rowFirst[row + 1]) continue;
      for (let n = 0; n < neighbours.length; n++) {
        const nj = j + neighbours[n][0];
        const nk = k + neighbours[n][1];
        if (nj < 0 || nj >= ny || nk < 0) continue;
        unionTouchingRuns(parent, runs, row, nj + nk * ny, slack);
      }
    }
  }
  return { runs, parent };
}

/**
 * Joins the runs of `row` with those of `other` that touch them. Both rows' runs are sorted: one
 * merge scan. (A small function of its own: V8 optimizes it early in a one-shot command-line run.)
 */
function unionTouchingRuns(parent: Int32Array, runs: Runs, row: number, other: number, slack: number): void {
  const { start, end, rowFirst } = runs;
  let a = rowFirst[row];
  const last = rowFirst[row + 1];
  let b = rowFirst[other];
  const bLast = rowFirst[other + 1];
  while (a < last && b < bLast) {
    if (start[a] <= end[b] + slack && start[b] <= end[a] + slack) union(parent, a, b);
    if (end[a] < end[b]) a++;
    else b++;
  }
}

/** The runs of the largest 26-connected component (the first, in row order, of equal size). */
export function largestComponentRuns(runs: Runs, dims: Vec3): Runs {
  const [, ny, nz] = dims;
  if (runs.count === 0) return runs;
  const { parent } = labelRuns(runs, dims, 'full26');
  const size = new Float64Array(runs.count);
  for (let r = 0; r < runs.count; r++) size[findRoot(parent, r)] += runs.end[r] - runs.start[r] + 1;
  let best = 0;
  for (let r = 1; r < runs.count; r++) if (size[r] > size[best]) best = r;
  const kept = new RunsBuilder(ny * nz);
  for (let row = 0; row < ny * nz; row++) {
    kept.beginRow(row);
    for (let r = runs.rowFirst[row]; r < runs.rowFirst[row + 1]; r++) {
      if (findRoot(parent, r) === best) kept.push(runs.start[r], runs.end[r]);
    }
  }
  return kept.finish();
}

/** The background runs of each row: the gaps between (and around) the foreground runs. */
function gapRuns(runs: Runs, dims: Vec3): Runs {
  const [nx, ny, nz] = dims;
  const gaps = new RunsBuilder(ny * nz, runs.count + ny * nz + 1);
  for (let row = 0; row < ny * nz; row++) {
    gaps.beginRow(row);
    let next = 0;
    for (let r = runs.rowFirst[row]; r < runs.rowFirst[row + 1]; r++) {
      if (runs.start[r] > next) gaps.push(next, runs.start[r] - 1);
      next = runs.end[r] + 1;
    }
    if (next < nx) gaps.push(next, nx - 1);
  }
  return gaps.finish();
}

/**
 * Foreground runs with their holes filled, slice by slice: background 4-connected within a k slice
 * and not reaching the slice's edge becomes foreground. Every 3-D hole is such a hole too (a path to a
 * slice's edge is a path to the volume's edge), so this also fills holes in 3-D.
 */
export function fillHoleRuns(runs: Runs, dims: Vec3): Runs {
  const [nx, ny, nz] = dims;
  const gaps = gapRuns(runs, dims);
  const { parent } = labelRuns(gaps, dims, 'slice4');
  const open = new Uint8Array(gaps.count);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      markGapsReachingTheEdge(gaps, parent, open, j + k * ny, j === 0 || j === ny - 1, nx);
    }
  }
  const filled = new RunsBuilder(ny * nz, runs.count);
  for (let row = 0; row < ny * nz; row++) {
    filled.beginRow(row);
    pushRowWithEnclosedGaps(runs, gaps, parent, open, row, filled);
  }
  return filled.finish();
}

/** open[root] = 1 for every gap of `row` that touches the slice's edge (all of them on an edge row). */
function markGapsReachingTheEdge(gaps: Runs, parent: Int32Array, open: Uint8Array, row: number, edgeRow: boolean, nx: number): void {
  for (let g = gaps.rowFirst[row]; g < gaps.rowFirst[row + 1]; g++) {
    if (edgeRow || gaps.start[g] === 0 || gaps.end[g] === nx - 1) open[findRoot(parent, g)] = 1;
  }
}

/**
 * Per row, foreground runs and gaps alternate and tile the row: pushes each run joined with the
 * enclosed gaps that follow it, as one run.
 */
function pushRowWithEnclosedGaps(runs: Runs, gaps: Runs, parent: Int32Array, open: Uint8Array, row: number, filled: RunsBuilder): void {
  let g = gaps.rowFirst[row];
  const gEnd = gaps.rowFirst[row + 1];
  let current = -1;
  let currentEnd = -1;
  for (let r = runs.rowFirst[row]; r < runs.rowFirst[row + 1]; r++) {
    // The gap just before this run, if enclosed, joins it to the previous run.
    while (g < gEnd && gaps.end[g] < runs.start[r]) {
      if (current >= 0 && gaps.start[g] === currentEnd + 1 && open[findRoot(parent, g)] === 0) currentEnd = gaps.end[g];
      g++;
    }
    if (current >= 0 && runs.start[r] === currentEnd + 1) {
      currentEnd = runs.end[r];
    } else {
      if (current >= 0) filled.push(current, currentEnd);
      current = runs.start[r];
      currentEnd = runs.end[r];
    }
  }
  if (current >= 0) filled.push(current, currentEnd);
}

/** Keeps only the largest 26-connected foreground component, in place. Returns its voxel count. */
export function keepLargestComponent(mask: Uint8Array, dims: Vec3): number {
  const kept = largestComponentRuns(findRuns(mask, dims, 1), dims);
  mask.fill(0);
  paintRuns(mask, dims, kept);
  return runVoxels(kept);
}

/**
 * Fills background components that do not touch the border, in place: with 'slice4' each k slice
 * separately (its border is the slice's edge), with 'face6' in 3-D. Returns the number of voxels filled.
 */
export function fillHoles(mask: Uint8Array, dims: Vec3, connectivity: 'slice4' | 'face6'): number {
  if (connectivity === 'slice4') {
    const runs = findRuns(mask, dims, 1);
    const filled = fillHoleRuns(runs, dims);
    paintRuns(mask, dims, filled);
    return runVoxels(filled) - runVoxels(runs);
  }
  const [nx, ny, nz] = dims;
  const runs = findRuns(mask, dims, 0);
  if (runs.count === 0) return 0;
  const { parent } = labelRuns(runs, dims, connectivity);
  const open = new Uint8Array(runs.count);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = j + k * ny;
      const edgeRow = j === 0 || j === ny - 1 || k === 0 || k === nz - 1;
      for (let r = runs.rowFirst[row]; r < runs.rowFirst[row + 1]; r++) {
        if (edgeRow || runs.start[r] === 0 || runs.end[r] === nx - 1) open[findRoot(parent, r)] = 1;
      }
    }
  }
  let filled = 0;
  for (let row = 0; row < ny * nz; row++) {
    for (let r = runs.rowFirst[row]; r < runs.rowFirst[row + 1]; r++) {
      if (open[findRoot(parent, r)] === 0) {
        mask.fill(1, row * nx + runs.start[r], row * nx + runs.end[r] + 1);
        filled += runs.end[r] - runs.start[r] + 1;
      }
    }
  }
  return filled;
}
