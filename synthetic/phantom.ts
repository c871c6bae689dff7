/**
 * A synthetic contrast-enhanced abdominal CT with organ labels, deterministic from a seed.
 *
 * The anatomy (phantom-anatomy.ts) is drawn from the seed in millimetres; here it is painted onto the
 * voxel grid tissue by tissue, in an order that lets later structures displace earlier ones (the
 * liver indents the stomach, the IVC runs through the caudate lobe, ...). Intensities then get a
 * slight blur (partial volume) and Gaussian noise, part of it spatially correlated.
 *
 * Labels follow LiTS/MSD conventions for the liver (vessels and lesions inside it count as liver):
 * 1 liver, 2 spleen, 3 right kidney, 4 left kidney, 5 stomach, 6 aorta, 7 bone.
 */
import type { Vec3, Volume } from '../extension/src/core/volume';
import { type AbdomenAnatomy, type Blob, type ContrastPhase, type Intensities, type Tube, drawAbdomenAnatomy } from './phantom-anatomy';
import { type LiverPlacement, type LiverShape, LiverShapeSampler } from './liver-shape';
import { Random } from './random';

/**
 * Math functions bound once at module scope: under jest, code runs in a vm context where every
 * global lookup (`Math`) goes through an interceptor, which made these loops over 10x slower.
 */
const { abs, cbrt, ceil, cos, floor, hypot, max, min, round, sign, sin, sqrt } = Math;

export const PHANTOM_LABELS = {
  background: 0,
  liver: 1,
  spleen: 2,
  rightKidney: 3,
  leftKidney: 4,
  stomach: 5,
  aorta: 6,
  bone: 7,
} as const;

export interface AbdomenPhantomOptions {
  seed: number | string;
  /** [nx, ny, nz]; default the demo size 256 x 256 x 96. */
  dimensions?: Vec3;
  /** Voxel size in mm; default 1.4 x 1.4 x 2.5. */
  spacing?: Vec3;
  /** Override the seed's noise level (HU standard deviation); 0 gives a noiseless image. */
  noiseSigma?: number;
  /**
   * LPS position (mm) of the grid's centre; default [0, 0, 0]. The anatomy stays where it is, so this
   * moves the field of view (the liver dome is near z = +70..90, the kidneys near z = -40).
   */
  center?: Vec3;
  /** Enhancement; default 'moderate' (liver ~60 HU, brighter vessels). 'mixed' draws it from the seed. */
  contrastPhase?: ContrastPhase;
  /**
   * A real liver shape (a labelled mask from any scan) drawn instead of the ellipsoid lobes, placed,
   * turned and scaled to the seed's liver volume. See liver-shape.ts.
   */
  liverShape?: LiverShape;
}

export interface AbdomenPhantom {
  /** Hounsfield units. */
  ct: Volume<Int16Array>;
  /** Organ labels, see PHANTOM_LABELS. */
  labels: Volume<Uint8Array>;
  /** 1 = liver (the ground truth for segmentation tests), 0 elsewhere. */
  liver: Volume<Uint8Array>;
  /** The drawn anatomy, for tests and debugging. */
  anatomy: AbdomenAnatomy;
  /** Where a real liver shape was drawn, when one was given. */
  liverPlacement?: LiverPlacement;
}

/**
 * Bumped whenever a seed's output changes, so generated data on disk (scripts/generate-data.ts) is
 * recognised as stale and made again. 2: liver lesions and correlated noise. 3: bowel down to the pelvis. 4: real liver shapes interpolated by signed distance.
 */
export const PHANTOM_VERSION = 4;

export const DEMO_PHANTOM_DIMENSIONS: Vec3 = [256, 256, 96];
export const DEMO_PHANTOM_SPACING: Vec3 = [1.4, 1.4, 2.5];

/** Tissue classes, each with its own intensity; several tissues share one label. */
const enum Tissue {
  Air, Fat, VisceralFat, Muscle, Lung, Liver, LiverVessel, LiverLesion, PortalVein, Gallbladder, Spleen,
  KidneyCortex, KidneyMedulla, RenalSinus, StomachWall, StomachFluid, StomachGas, Bowel, BowelGas,
  Aorta, Ivc, Heart, CancellousBone, CorticalBone, Rib, Disc, SpinalCanal,
}

function tissueIntensities(hu: Intensities): Float32Array {
  const table = new Float32Array(27);
  table[Tissue.Air] = hu.air;
  table[Tissue.Fat] = hu.fat;
  table[Tissue.VisceralFat] = hu.visceralFat;
  table[Tissue.Muscle] = hu.muscle;
  table[Tissue.Lung] = hu.lung;
  table[Tissue.Liver] = hu.liver;
  table[Tissue.LiverVessel] = hu.liverVessel;
  table[Tissue.LiverLesion] = hu.lesion;
  table[Tissue.PortalVein] = hu.liverVessel;
  table[Tissue.Gallbladder] = hu.gallbladder;
  table[Tissue.Spleen] = hu.spleen;
  table[Tissue.KidneyCortex] = hu.kidneyCortex;
  table[Tissue.KidneyMedulla] = hu.kidneyMedulla;
  table[Tissue.RenalSinus] = hu.renalSinus;
  table[Tissue.StomachWall] = hu.stomachWall;
  table[Tissue.StomachFluid] = hu.stomachFluid;
  table[Tissue.StomachGas] = hu.gas;
  table[Tissue.Bowel] = hu.bowel;
  table[Tissue.BowelGas] = hu.gas;
  table[Tissue.Aorta] = hu.aorta;
  table[Tissue.Ivc] = hu.ivc;
  table[Tissue.Heart] = hu.heart;
  table[Tissue.CancellousBone] = hu.cancellousBone;
  table[Tissue.CorticalBone] = hu.corticalBone;
  table[Tissue.Rib] = hu.rib;
  table[Tissue.Disc] = hu.disc;
  table[Tissue.SpinalCanal] = hu.spinalCanal;
  return table;
}

/** Tissues of the abdominal cavity that organs may displace (fat and bowel, not other organs). */
const DISPLACEABLE = new Set<Tissue>([Tissue.VisceralFat, Tissue.Bowel, Tissue.BowelGas]);

/** The voxel grid with millimetre coordinates per index and the tissue/label maps being painted. */
class Canvas {
  readonly nx: number;
  readonly ny: number;
  readonly nz: number;
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  readonly zs: Float64Array;
  readonly tissue: Uint8Array;
  readonly label: Uint8Array;

  constructor(readonly dimensions: Vec3, readonly spacing: Vec3, readonly origin: Vec3) {
    [this.nx, this.ny, this.nz] = dimensions;
    const axis = (n: number, a: number) => Float64Array.from({ length: n }, (_, index) => origin[a] + index * spacing[a]);
    this.xs = axis(this.nx, 0);
    this.ys = axis(this.ny, 1);
    this.zs = axis(this.nz, 2);
    this.tissue = new Uint8Array(this.nx * this.ny * this.nz); // Tissue.Air = 0
    this.label = new Uint8Array(this.nx * this.ny * this.nz);
  }

  /** Calls `visit` for every voxel whose centre lies in the box [min, max] (mm). */
  forEachInBox(low: Vec3, high: Vec3, visit: (index: number, x: number, y: number, z: number) => void): void {
    const range = (a: number, n: number) => {
      const lo = max(0, ceil((low[a] - this.origin[a]) / this.spacing[a]));
      const hi = min(n - 1, floor((high[a] - this.origin[a]) / this.spacing[a]));
      return [lo, hi];
    };
    const [i0, i1] = range(0, this.nx);
    const [j0, j1] = range(1, this.ny);
    const [k0, k1] = range(2, this.nz);
    for (let k = k0; k <= k1; k++) {
      for (let j = j0; j <= j1; j++) {
        const row = (k * this.ny + j) * this.nx;
        for (let i = i0; i <= i1; i++) visit(row + i, this.xs[i], this.ys[j], this.zs[k]);
      }
    }
  }

  everywhere(visit: (index: number, x: number, y: number, z: number) => void): void {
    this.forEachInBox(
      [this.xs[0], this.ys[0], this.zs[0]],
      [this.xs[this.nx - 1], this.ys[this.ny - 1], this.zs[this.nz - 1]],
      visit,
    );
  }

  set(index: number, tissue: Tissue, label: number): void {
    this.tissue[index] = tissue;
    this.label[index] = label;
  }
}

/**
 * Normalized radius of a point in a bumpy ellipsoid (< 1 inside), and its coordinates in the
 * ellipsoid's own frame (for shells, gas levels and the like).
 */
function blobRadius(blob: Blob, x: number, y: number, z: number): number {
  const dx = x - blob.center[0];
  const dy = y - blob.center[1];
  const dz = z - blob.center[2];
  const c = cos(blob.yaw);
  const s = sin(blob.yaw);
  const u = (c * dx + s * dy) / blob.radii[0];
  const v = (-s * dx + c * dy) / blob.radii[1];
  const w = dz / blob.radii[2];
  const [p0, p1, p2, p3] = blob.phases;
  const bump = 1 + blob.bumpiness * (sin(3 * u + p0) * sin(2.5 * v + p1) + sin(3 * w + p2 + 2 * u) * cos(2 * v + p3));
  return sqrt(u * u + v * v + w * w) / bump;
}

function blobBox(blob: Blob): [Vec3, Vec3] {
  const reach = max(blob.radii[0], blob.radii[1]) * (1 + 2 * blob.bumpiness);
  const height = blob.radii[2] * (1 + 2 * blob.bumpiness);
  return [
    [blob.center[0] - reach, blob.center[1] - reach, blob.center[2] - height],
    [blob.center[0] + reach, blob.center[1] + reach, blob.center[2] + height],
  ];
}

function distanceToSegment(tube: Tube, x: number, y: number, z: number): number {
  const [ax, ay, az] = tube.from;
  const ex = tube.to[0] - ax;
  const ey = tube.to[1] - ay;
  const ez = tube.to[2] - az;
  const length2 = ex * ex + ey * ey + ez * ez;
  const t = length2 > 0 ? min(1, max(0, ((x - ax) * ex + (y - ay) * ey + (z - az) * ez) / length2)) : 0;
  return hypot(x - (ax + t * ex), y - (ay + t * ey), z - (az + t * ez));
}

function tubeBox(tube: Tube): [Vec3, Vec3] {
  const r = tube.radius;
  return [
    [min(tube.from[0], tube.to[0]) - r, min(tube.from[1], tube.to[1]) - r, min(tube.from[2], tube.to[2]) - r],
    [max(tube.from[0], tube.to[0]) + r, max(tube.from[1], tube.to[1]) + r, max(tube.from[2], tube.to[2]) + r],
  ];
}

export function makeAbdomenPhantom(options: AbdomenPhantomOptions): AbdomenPhantom {
  const dimensions = options.dimensions ?? DEMO_PHANTOM_DIMENSIONS;
  const spacing = options.spacing ?? DEMO_PHANTOM_SPACING;
  const center = options.center ?? [0, 0, 0];
  const origin: Vec3 = [0, 1, 2].map((a) => center[a] - ((dimensions[a] - 1) / 2) * spacing[a]) as Vec3;
  const anatomy = drawAbdomenAnatomy(options.seed, options.contrastPhase);
  const liver = options.liverShape ? placeLiverShape(anatomy, new LiverShapeSampler(options.liverShape), options.seed) : undefined;
  if (!liver) calibrateLiverVolume(anatomy);
  const canvas = new Canvas(dimensions, spacing, origin);

  paintAnatomy(canvas, anatomy, liver);
  const hu = renderIntensities(canvas, anatomy, options.noiseSigma ?? anatomy.noiseSigma, new Random(`noise|${options.seed}`));

  const geometry = { dimensions: [...dimensions] as Vec3, spacing: [...spacing] as Vec3, origin, direction: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as [Vec3, Vec3, Vec3] };
  const liverMask = new Uint8Array(canvas.label.length);
  for (let p = 0; p < liverMask.length; p++) liverMask[p] = canvas.label[p] === PHANTOM_LABELS.liver ? 1 : 0;
  return {
    ct: { ...geometry, voxels: hu },
    labels: { ...geometry, voxels: canvas.label },
    liver: { ...geometry, voxels: liverMask },
    anatomy,
    liverPlacement: liver?.placement,
  };
}

/**
 * Scales the liver lobes (about their centres) so that the painted liver has the anatomy's target
 * volume: the lobes overlap each other and are clipped by the body wall, diaphragm and kidneys, so
 * their nominal ellipsoid volumes say little. Measured on a coarse 4 mm grid over a generous field of
 * view, so the result does not depend on the requested grid.
 */
function calibrateLiverVolume(anatomy: AbdomenAnatomy): void {
  for (let iteration = 0; iteration < 2; iteration++) {
    const { volumeMl } = measureLiver(anatomy);
    if (volumeMl === 0) return;
    const factor = cbrt(anatomy.liverTargetMl / volumeMl);
    for (const lobe of anatomy.liverLobes) lobe.radii = lobe.radii.map((r) => r * factor) as Vec3;
  }
}

/** Paints the anatomy on a coarse 4 mm grid over a generous field of view; liver volume and centroid. */
function measureLiver(anatomy: AbdomenAnatomy, liver?: PlacedLiver): { volumeMl: number; centroid: Vec3 } {
  const step = 4;
  const coarse: Vec3 = [100, 100, 80];
  const origin = coarse.map((n) => (-(n - 1) / 2) * step) as Vec3;
  const canvas = new Canvas(coarse, [step, step, step], origin);
  paintAnatomy(canvas, anatomy, liver);
  let count = 0;
  const sum: Vec3 = [0, 0, 0];
  canvas.everywhere((index, x, y, z) => {
    if (canvas.label[index] !== PHANTOM_LABELS.liver) return;
    count++;
    sum[0] += x;
    sum[1] += y;
    sum[2] += z;
  });
  return { volumeMl: (count * step ** 3) / 1000, centroid: count ? [sum[0] / count, sum[1] / count, sum[2] / count] : [0, 0, 0] };
}

interface PlacedLiver {
  sampler: LiverShapeSampler;
  placement: LiverPlacement;
}

/**
 * Places a real liver shape where the ellipsoid liver would be: same centroid, a small seeded turn
 * and stretch, and a scale calibrated (twice, since the body wall and diaphragm clip it) to the
 * seed's target volume.
 */
function placeLiverShape(anatomy: AbdomenAnatomy, sampler: LiverShapeSampler, seed: number | string): PlacedLiver {
  calibrateLiverVolume(anatomy);
  const { centroid } = measureLiver(anatomy);
  const random = new Random(`phantom-shape|${seed}`);
  const placement: LiverPlacement = {
    center: centroid,
    scale: cbrt(anatomy.liverTargetMl / sampler.volumeMl),
    yaw: random.range(-0.15, 0.15),
    stretch: [random.range(0.92, 1.08), random.range(0.92, 1.08), random.range(0.92, 1.08)],
  };
  const placed = { sampler, placement };
  for (let iteration = 0; iteration < 2; iteration++) {
    const { volumeMl } = measureLiver(anatomy, placed);
    if (volumeMl === 0) break;
    placement.scale *= cbrt(anatomy.liverTargetMl / volumeMl);
  }
  return placed;
}

function paintAnatomy(canvas: Canvas, anatomy: AbdomenAnatomy, liver?: PlacedLiver): void {
  const { body, diaphragm } = anatomy;
  const [cx, cy] = body.center;
  const [A, B] = body.semiAxes;
  const wall = body.fatThickness + body.muscleThickness;
  const cavityA = A - wall;
  const cavityB = B - wall;
  /** z of the diaphragm above (x, y): two paraboloid domes, the right one higher. */
  const diaphragmZ = (x: number, y: number) => {
    const dy2 = (y - cy) * (y - cy);
    const right = diaphragm.right - ((x - (cx - 60)) ** 2 + dy2) / diaphragm.curvature;
    const left = diaphragm.left - ((x - (cx + 60)) ** 2 + dy2) / diaphragm.curvature;
    return max(right, left);
  };
  const inCavity = (x: number, y: number, scale = 1) =>
    ((x - cx) / (cavityA * scale)) ** 2 + ((y - cy) / (cavityB * scale)) ** 2 <= 1;
  const belowDiaphragm = (x: number, y: number, z: number) => z < diaphragmZ(x, y) - 2;

  // Body wall: subcutaneous fat, a muscle layer, and the cavity (visceral fat) inside.
  canvas.everywhere((index, x, y) => {
    const outer = ((x - cx) / A) ** 2 + ((y - cy) / B) ** 2;
    if (outer > 1) return;
    const muscleA = A - body.fatThickness;
    const muscleB = B - body.fatThickness;
    const inMuscle = ((x - cx) / muscleA) ** 2 + ((y - cy) / muscleB) ** 2 <= 1;
    canvas.set(index, !inMuscle ? Tissue.Fat : inCavity(x, y) ? Tissue.VisceralFat : Tissue.Muscle, 0);
  });

  const paintBlob = (blob: Blob, paint: (index: number, radius: number, x: number, y: number, z: number) => void) => {
    const [low, high] = blobBox(blob);
    canvas.forEachInBox(low, high, (index, x, y, z) => {
      const radius = blobRadius(blob, x, y, z);
      if (radius <= 1) paint(index, radius, x, y, z);
    });
  };
  /** Paints an abdominal organ into the cavity below the diaphragm, over fat and bowel only. */
  const paintOrgan = (blob: Blob, paint: (index: number, radius: number, x: number, y: number, z: number) => void) =>
    paintBlob(blob, (index, radius, x, y, z) => {
      if (DISPLACEABLE.has(canvas.tissue[index]) && belowDiaphragm(x, y, z) && inCavity(x, y)) paint(index, radius, x, y, z);
    });

  // Heart, sitting on the diaphragm.
  paintBlob(anatomy.heart, (index, _r, x, y, z) => {
    if (canvas.tissue[index] === Tissue.VisceralFat && z > diaphragmZ(x, y) + 3) canvas.set(index, Tissue.Heart, 0);
  });

  // Bowel: the colon carries gas anteriorly (it rises in a supine patient), small bowel is fluid.
  anatomy.bowel.forEach((tube, n) => {
    const [low, high] = tubeBox(tube);
    canvas.forEachInBox(low, high, (index, x, y, z) => {
      if (canvas.tissue[index] !== Tissue.VisceralFat || !belowDiaphragm(x, y, z)) return;
      const distance = distanceToSegment(tube, x, y, z);
      if (distance > tube.radius) return;
      const isColon = n < 3;
      const gas = isColon && distance < tube.radius - 2.5 && y < (tube.from[1] + tube.to[1]) / 2 - 0.2 * tube.radius;
      canvas.set(index, gas ? Tissue.BowelGas : Tissue.Bowel, 0);
    });
  });

  // Kidneys: cortex, medulla and a fatty sinus on the medial side.
  const paintKidney = (blob: Blob, label: number) =>
    paintOrgan(blob, (index, radius, x) => {
      const medial = (x - cx) * sign(blob.center[0] - cx) < abs(blob.center[0] - cx) - 6;
      const tissue = radius > 0.72 ? Tissue.KidneyCortex : medial && radius < 0.5 ? Tissue.RenalSinus : Tissue.KidneyMedulla;
      canvas.set(index, tissue, label);
    });
  paintKidney(anatomy.kidneys.right, PHANTOM_LABELS.rightKidney);
  paintKidney(anatomy.kidneys.left, PHANTOM_LABELS.leftKidney);

  paintOrgan(anatomy.spleen, (index) => canvas.set(index, Tissue.Spleen, PHANTOM_LABELS.spleen));

  // Stomach: a wall, fluid below and a gas cap anteriorly.
  const stomach = anatomy.stomach;
  paintOrgan(stomach, (index, radius, _x, y) => {
    const gasLevel = stomach.center[1] - 0.3 * stomach.radii[1];
    const tissue = radius > 0.86 ? Tissue.StomachWall : y < gasLevel ? Tissue.StomachGas : Tissue.StomachFluid;
    canvas.set(index, tissue, PHANTOM_LABELS.stomach);
  });

  // Liver: the union of its lobes, or a real shape; it may displace the stomach but not the kidney or spleen.
  const paintLiver = (index: number, x: number, y: number, z: number) => {
    const current = canvas.tissue[index];
    const displaceable = DISPLACEABLE.has(current) || current === Tissue.StomachWall || current === Tissue.StomachFluid || current === Tissue.StomachGas;
    if (displaceable && belowDiaphragm(x, y, z) && inCavity(x, y)) canvas.set(index, Tissue.Liver, PHANTOM_LABELS.liver);
  };
  if (liver) {
    const { sampler, placement } = liver;
    const reach = sampler.reach(placement);
    const [cx0, cy0, cz0] = placement.center;
    canvas.forEachInBox([cx0 - reach, cy0 - reach, cz0 - reach], [cx0 + reach, cy0 + reach, cz0 + reach], (index, x, y, z) => {
      if (sampler.contains(placement, x, y, z)) paintLiver(index, x, y, z);
    });
  } else {
    for (const lobe of anatomy.liverLobes) paintBlob(lobe, (index, _r, x, y, z) => paintLiver(index, x, y, z));
  }
  // Portal and hepatic veins: liver label inside the liver, unlabelled vein outside it.
  for (const vessel of anatomy.liverVessels) {
    const [low, high] = tubeBox(vessel);
    canvas.forEachInBox(low, high, (index, x, y, z) => {
      if (distanceToSegment(vessel, x, y, z) > vessel.radius) return;
      const current = canvas.tissue[index];
      if (current === Tissue.Liver) canvas.set(index, Tissue.LiverVessel, PHANTOM_LABELS.liver);
      // Outside the liver only for the ellipsoid liver, whose hilum the vessels were drawn for.
      else if (!liver && DISPLACEABLE.has(current) && belowDiaphragm(x, y, z)) canvas.set(index, Tissue.PortalVein, 0);
    });
  }
  // Hypodense lesions, inside the liver only; they keep the liver label.
  for (const lesion of anatomy.liverLesions) {
    paintBlob(lesion, (index) => {
      const current = canvas.tissue[index];
      if (current === Tissue.Liver || current === Tissue.LiverVessel) canvas.set(index, Tissue.LiverLesion, PHANTOM_LABELS.liver);
    });
  }
  // Gallbladder in its fossa under the liver.
  paintBlob(anatomy.gallbladder, (index, _r, x, y, z) => {
    const current = canvas.tissue[index];
    if ((current === Tissue.Liver || current === Tissue.LiverVessel || current === Tissue.LiverLesion || DISPLACEABLE.has(current)) && belowDiaphragm(x, y, z) && inCavity(x, y)) {
      canvas.set(index, Tissue.Gallbladder, 0);
    }
  });

  // Great vessels run the whole length; the IVC ends in the heart, the aorta continues upwards.
  const zTop = canvas.zs[canvas.nz - 1];
  const zBottom = canvas.zs[0];
  const paintColumn = (vessel: { x: number; y: number; radius: number }, top: number, tissue: Tissue, label: number) => {
    const r = vessel.radius;
    canvas.forEachInBox([vessel.x - r, vessel.y - r, zBottom], [vessel.x + r, vessel.y + r, top], (index, x, y) => {
      if ((x - vessel.x) ** 2 + (y - vessel.y) ** 2 <= r * r) canvas.set(index, tissue, label);
    });
  };
  paintColumn(anatomy.ivc, diaphragm.right + 10, Tissue.Ivc, 0);
  paintColumn(anatomy.aorta, zTop, Tissue.Aorta, PHANTOM_LABELS.aorta);

  paintSpine(canvas, anatomy);
  paintRibs(canvas, anatomy, cavityA, cavityB);

  // Lungs above the diaphragm, either side of the mediastinum, with a muscular diaphragm below them.
  canvas.everywhere((index, x, y, z) => {
    if (canvas.tissue[index] !== Tissue.VisceralFat || !inCavity(x, y)) return;
    const dome = diaphragmZ(x, y);
    if (z > dome + 3 && abs(x - cx) > 28) canvas.set(index, Tissue.Lung, 0);
    else if (z > dome - 3 && z <= dome + 3) canvas.set(index, Tissue.Muscle, 0);
  });
}

function paintSpine(canvas: Canvas, anatomy: AbdomenAnatomy): void {
  const { spine } = anatomy;
  const [rx, ry] = spine.bodyRadii;
  const canalY = spine.y + ry + 10;
  const canalRadius = 8;
  const bottom = canvas.zs[0];
  const top = canvas.zs[canvas.nz - 1];
  // Paraspinal muscles first, the bone on top of them.
  for (const side of [-1, 1]) {
    const mx = spine.x + side * 36;
    const my = canalY + 18;
    canvas.forEachInBox([mx - 28, my - 22, bottom], [mx + 28, my + 22, top], (index, x, y) => {
      if (((x - mx) / 28) ** 2 + ((y - my) / 22) ** 2 <= 1 && canvas.tissue[index] !== Tissue.Air) canvas.set(index, Tissue.Muscle, 0);
    });
  }
  canvas.forEachInBox([spine.x - 40, spine.y - ry, bottom], [spine.x + 40, canalY + 50, top], (index, x, y, z) => {
    const inSegment = (((z - spine.phase) % spine.segment) + spine.segment) % spine.segment;
    const isDisc = inSegment < 5;
    const body = sqrt(((x - spine.x) / rx) ** 2 + ((y - spine.y) / ry) ** 2);
    const canal = hypot(x - spine.x, y - canalY);
    if (body <= 1) {
      if (isDisc) canvas.set(index, Tissue.Disc, 0);
      else canvas.set(index, body > 0.82 ? Tissue.CorticalBone : Tissue.CancellousBone, PHANTOM_LABELS.bone);
    } else if (canal <= canalRadius) {
      canvas.set(index, Tissue.SpinalCanal, 0);
    } else if (!isDisc && (canal <= canalRadius + 6 || (abs(x - spine.x) <= 4 && y > canalY && y <= canalY + 42))) {
      // Neural arch around the canal and the spinous process behind it.
      if (canvas.tissue[index] !== Tissue.Air && canvas.tissue[index] !== Tissue.Fat) canvas.set(index, Tissue.CorticalBone, PHANTOM_LABELS.bone);
    }
  });
}

/** Ribs: oblique bands in the muscle layer, higher at the back than at the front, open anteriorly. */
function paintRibs(canvas: Canvas, anatomy: AbdomenAnatomy, cavityA: number, cavityB: number): void {
  const { ribs, body } = anatomy;
  const [cx, cy] = body.center;
  canvas.everywhere((index, x, y, z) => {
    const rho = sqrt(((x - cx) / cavityA) ** 2 + ((y - cy) / cavityB) ** 2);
    if (rho < 1.0 || rho > 1.07) return;
    const sinTheta = (y - cy) / cavityB / rho; // +1 at the back, -1 at the front
    const along = z - ribs.slope * sinTheta;
    if (along < ribs.lowestZ) return;
    if (sinTheta < -0.55 && abs(x - cx) < 45) return; // costal cartilage gap at the front
    const phase = (((along - ribs.phase) % ribs.spacing) + ribs.spacing) % ribs.spacing;
    if (phase < ribs.width) canvas.set(index, Tissue.Rib, PHANTOM_LABELS.bone);
  });
}

/**
 * Tissue intensities, then noise with CT-like texture: part of it is added before a light
 * [1 2 1]/4 blur along each axis (which also gives edges a partial-volume ramp), so it is spatially
 * correlated, and part after it (white). Each part carries half the variance of `noiseSigma`.
 */
function renderIntensities(canvas: Canvas, anatomy: AbdomenAnatomy, noiseSigma: number, random: Random): Int16Array {
  const table = tissueIntensities(anatomy.hu);
  const count = canvas.tissue.length;
  // The blur keeps 0.375 of the variance per axis: scale the correlated part up to compensate.
  const correlatedSigma = (noiseSigma * Math.SQRT1_2) / sqrt(0.375 ** 3);
  const whiteSigma = noiseSigma * Math.SQRT1_2;
  let values = new Float32Array(count);
  for (let p = 0; p < count; p++) values[p] = table[canvas.tissue[p]] + (noiseSigma > 0 ? correlatedSigma * random.gaussian() : 0);
  const strides = [1, canvas.nx, canvas.nx * canvas.ny];
  const sizes = [canvas.nx, canvas.ny, canvas.nz];
  let scratch = new Float32Array(count);
  for (let axis = 0; axis < 3; axis++) {
    const stride = strides[axis];
    const n = sizes[axis];
    for (let p = 0; p < count; p++) {
      const position = floor(p / stride) % n;
      const before = position > 0 ? values[p - stride] : values[p];
      const after = position < n - 1 ? values[p + stride] : values[p];
      scratch[p] = 0.25 * before + 0.5 * values[p] + 0.25 * after;
    }
    [values, scratch] = [scratch, values];
  }
  const hu = new Int16Array(count);
  for (let p = 0; p < count; p++) {
    const value = round(values[p] + (noiseSigma > 0 ? whiteSigma * random.gaussian() : 0));
    hu[p] = value < -1024 ? -1024 : value > 3071 ? 3071 : value;
  }
  return hu;
}
