/**
 * The random anatomy of one abdominal phantom: sizes and positions in millimetres, tissue
 * intensities in HU. Drawn from a seed, so a seed names one "patient"; phantom.ts rasterizes it.
 *
 * Frame: x towards the patient's Left, y towards Posterior, z towards Superior (LPS axes), origin at
 * the centre of the field of view. The liver is on the patient's right, i.e. at negative x.
 */
import { Random } from './random';

export type Vec3 = [number, number, number];

/** An ellipsoid, rotated about z by `yaw` (radians), with a smooth random bumpiness. */
export interface Blob {
  center: Vec3;
  radii: Vec3;
  yaw: number;
  /** Relative amplitude of the surface bumps (0 = exact ellipsoid). */
  bumpiness: number;
  /** Phases of the bump pattern. */
  phases: [number, number, number, number];
}

/** A tube between two points (a vessel or bowel segment). */
export interface Tube {
  from: Vec3;
  to: Vec3;
  radius: number;
}

export interface Intensities {
  air: number;
  fat: number;
  visceralFat: number;
  muscle: number;
  lung: number;
  liver: number;
  liverVessel: number;
  /** Hypodense lesions (metastasis-like) inside the liver. */
  lesion: number;
  spleen: number;
  kidneyCortex: number;
  kidneyMedulla: number;
  renalSinus: number;
  stomachWall: number;
  stomachFluid: number;
  gas: number;
  aorta: number;
  ivc: number;
  bowel: number;
  gallbladder: number;
  heart: number;
  cancellousBone: number;
  corticalBone: number;
  rib: number;
  disc: number;
  spinalCanal: number;
}

export interface AbdomenAnatomy {
  /** Body outline: ellipse semi-axes (x, y) and centre offset, in mm. */
  body: { center: [number, number]; semiAxes: [number, number]; fatThickness: number; muscleThickness: number };
  /** Height (z, mm) of the right and left diaphragm domes; includes the breathing offset. */
  diaphragm: { right: number; left: number; curvature: number };
  /** Cranio-caudal shift of the abdominal organs from breathing (mm). */
  breathingOffset: number;
  /** The liver volume this patient should have (mL); phantom.ts scales the lobes to reach it. */
  liverTargetMl: number;
  liverLobes: Blob[];
  liverVessels: Tube[];
  /** 0-3 hypodense lesions; they count as liver (as in LiTS/MSD, where tumour is part of the liver). */
  liverLesions: Blob[];
  gallbladder: Blob;
  spleen: Blob;
  kidneys: { right: Blob; left: Blob };
  stomach: Blob;
  heart: Blob;
  aorta: { x: number; y: number; radius: number };
  ivc: { x: number; y: number; radius: number };
  spine: { x: number; y: number; bodyRadii: [number, number]; segment: number; phase: number };
  ribs: { spacing: number; width: number; slope: number; phase: number; lowestZ: number };
  bowel: Tube[];
  hu: Intensities;
  /** Standard deviation of the voxel noise (HU). */
  noiseSigma: number;
}

function blob(random: Random, center: Vec3, radii: Vec3, yaw = 0, bumpiness = 0.06): Blob {
  return {
    center,
    radii,
    yaw,
    bumpiness: bumpiness * random.range(0.6, 1.4),
    phases: [random.range(0, 6.283), random.range(0, 6.283), random.range(0, 6.283), random.range(0, 6.283)],
  };
}

/**
 * How the scan was enhanced. 'moderate' (the default, and the demo): liver about 60 HU with brighter
 * vessels, kidneys about 30. 'unenhanced' and 'portal-venous' cover the ends real scans span (liver
 * about 55 with slightly darker vessels, and about 110 with bright vessels and kidneys); 'mixed'
 * draws one of the three from the seed (for training sets).
 */
export type ContrastPhase = 'moderate' | 'unenhanced' | 'portal-venous' | 'mixed';

export function drawAbdomenAnatomy(seed: number | string, contrastPhase: ContrastPhase = 'moderate'): AbdomenAnatomy {
  const random = new Random(`phantom|${seed}`);
  const jitter = (amount: number) => random.range(-amount, amount);
  const size = random.range(0.9, 1.08); // overall body habitus
  const shift: [number, number] = [jitter(8), jitter(6)];
  const at = (x: number, y: number, z: number): Vec3 => [shift[0] + x * size, shift[1] + y * size, z];
  const breathing = jitter(12);

  const semiAxes: [number, number] = [155 * size * random.range(0.95, 1.05), 108 * size * random.range(0.93, 1.07)];

  // Liver: a large right lobe filling the right upper quadrant, a left lobe crossing the midline
  // anteriorly, and a caudate bump next to the IVC. Each axis of each lobe varies by a few percent.
  const liverScale = random.range(0.95, 1.06);
  const s = (value: number) => value * liverScale * random.range(0.95, 1.05);
  const liverTop = 72 + breathing;
  const liverLobes = [
    blob(random, at(-68, -2, liverTop - 62), [s(76), s(90), s(74)], jitter(0.15), 0.07),
    blob(random, at(12, -42, liverTop - 30), [s(66), s(40), s(36)], 0.25 + jitter(0.1), 0.08),
    blob(random, at(-18, 22, liverTop - 40), [s(20), s(18), s(24)], 0, 0.05),
  ];
  const hilum = at(-35, 5, liverTop - 70);
  const hepaticConfluence = at(-22, 18, liverTop - 12);
  const liverVessels: Tube[] = [
    // Portal vein and its right and left branches.
    { from: at(-20, 20, liverTop - 95), to: hilum, radius: 7 },
    { from: hilum, to: at(-85, 0, liverTop - 55), radius: 5 },
    { from: at(-85, 0, liverTop - 55), to: at(-105, 25, liverTop - 75), radius: 3.5 },
    { from: at(-85, 0, liverTop - 55), to: at(-95, -35, liverTop - 45), radius: 3.5 },
    { from: hilum, to: at(10, -35, liverTop - 35), radius: 4.5 },
    // Hepatic veins fanning out from the confluence near the IVC.
    { from: hepaticConfluence, to: at(-100, -10, liverTop - 35), radius: 4.5 },
    { from: hepaticConfluence, to: at(-50, -50, liverTop - 40), radius: 4 },
    { from: hepaticConfluence, to: at(25, -45, liverTop - 25), radius: 3.5 },
  ];
  for (const vessel of liverVessels) vessel.radius *= random.range(0.85, 1.15);

  const bowel: Tube[] = [];
  // Ascending, transverse and descending colon, then small-bowel loops filling the lower abdomen
  // (down to z = -175 mm, so grids shifted towards the pelvis are not empty there).
  const colonRadius = random.range(15, 20);
  bowel.push({ from: at(-95, 0, -175), to: at(-95, -10, -35 + breathing * 0.5), radius: colonRadius });
  bowel.push({ from: at(-95, -10, -35 + breathing * 0.5), to: at(90, -20, -25 + breathing * 0.5), radius: colonRadius });
  bowel.push({ from: at(90, -20, -25 + breathing * 0.5), to: at(95, 20, -175), radius: colonRadius });
  for (let n = 0; n < 26; n++) {
    const from = at(random.range(-70, 70), random.range(-75, 0), random.range(-170, -35));
    const to: Vec3 = [from[0] + jitter(35), from[1] + jitter(20), from[2] + jitter(30)];
    bowel.push({ from, to, radius: random.range(8, 13) });
  }

  const hu: Intensities = {
    air: -1000,
    fat: random.range(-110, -90),
    visceralFat: random.range(-100, -80),
    muscle: random.range(35, 50),
    lung: random.range(-870, -820),
    liver: random.range(50, 75),
    liverVessel: 0, // set below, relative to the liver
    lesion: 0,
    spleen: 0,
    kidneyCortex: random.range(25, 40),
    kidneyMedulla: random.range(15, 25),
    renalSinus: random.range(-60, -30),
    stomachWall: random.range(35, 50),
    stomachFluid: random.range(5, 20),
    gas: random.range(-980, -900),
    aorta: random.range(160, 220),
    ivc: random.range(110, 150),
    bowel: random.range(15, 45),
    gallbladder: random.range(0, 15),
    heart: random.range(35, 55),
    cancellousBone: random.range(380, 480),
    corticalBone: random.range(850, 1000),
    rib: random.range(550, 750),
    disc: random.range(70, 100),
    spinalCanal: random.range(5, 20),
  };
  hu.liverVessel = hu.liver + random.range(60, 100); // 'moderate' enhancement; see applyContrastPhase
  hu.spleen = hu.liver - random.range(5, 15);
  // Lesions come from their own random stream, so adding them left every other feature of a seed as it was.
  const lesionRandom = new Random(`phantom-lesions|${seed}`);
  hu.lesion = hu.liver - lesionRandom.range(25, 50);
  applyContrastPhase(hu, seed, contrastPhase);
  const liverLesions: Blob[] = [];
  const lesionCount = lesionRandom.int(0, 3);
  for (let n = 0; n < lesionCount; n++) {
    const lobe = lesionRandom.uniform() < 0.75 ? liverLobes[0] : liverLobes[1];
    const center = lobe.center.map((c, a) => c + lesionRandom.range(-0.5, 0.5) * lobe.radii[a]) as Vec3;
    const radius = lesionRandom.range(4, 18);
    liverLesions.push(blob(lesionRandom, center, [radius, radius * lesionRandom.range(0.8, 1.2), radius * lesionRandom.range(0.8, 1.2)], lesionRandom.range(0, 3), 0.08));
  }

  return {
    body: {
      center: shift,
      semiAxes,
      fatThickness: random.range(12, 30) * size,
      muscleThickness: random.range(9, 14),
    },
    diaphragm: { right: liverTop + 8, left: liverTop - 2 + jitter(4), curvature: random.range(170, 230) },
    breathingOffset: breathing,
    liverTargetMl: random.range(1300, 1900),
    liverLobes,
    liverVessels,
    liverLesions,
    gallbladder: blob(random, at(-40, -48, liverTop - 88), [14, 14, 28].map((r) => r * random.range(0.8, 1.2)) as Vec3, 0.3, 0.04),
    spleen: blob(random, at(88, 42, liverTop - 40), [28 * random.range(0.85, 1.15), 48 * random.range(0.85, 1.15), 48 * random.range(0.85, 1.15)], -0.5, 0.06),
    kidneys: {
      right: blob(random, at(-68, 55, -40 + breathing * 0.6), [27, 24, 55].map((r) => r * random.range(0.9, 1.1)) as Vec3, -0.35, 0.03),
      left: blob(random, at(68, 55, -28 + breathing * 0.6), [27, 24, 55].map((r) => r * random.range(0.9, 1.1)) as Vec3, 0.35, 0.03),
    },
    stomach: blob(random, at(55, -25, liverTop - 45), [40, 32, 42].map((r) => r * random.range(0.85, 1.2)) as Vec3, 0.5, 0.06),
    heart: blob(random, at(25, -30, liverTop + 80), [70, 58, 65], 0.3, 0.03),
    aorta: { x: shift[0] + 16 * size, y: shift[1] + 20 * size, radius: random.range(10, 13) },
    ivc: { x: shift[0] - 24 * size, y: shift[1] + 18 * size, radius: random.range(10, 13) },
    spine: { x: shift[0], y: shift[1] + 52 * size, bodyRadii: [22 * size, 18 * size], segment: random.range(28, 33), phase: random.range(0, 30) },
    ribs: { spacing: random.range(28, 34), width: random.range(7, 9), slope: random.range(20, 35), phase: random.range(0, 25), lowestZ: -45 + breathing * 0.3 },
    bowel,
    hu,
    noiseSigma: random.range(8, 20),
  };
}

/**
 * Replaces the enhancement-dependent intensities for the unenhanced and portal-venous phases. Draws
 * from its own random stream, so a seed's anatomy is the same in every phase.
 */
function applyContrastPhase(hu: Intensities, seed: number | string, phase: ContrastPhase): void {
  const random = new Random(`phantom-contrast|${seed}`);
  const chosen = phase === 'mixed' ? (['moderate', 'unenhanced', 'portal-venous'] as const)[random.int(0, 2)] : phase;
  if (chosen === 'unenhanced') {
    hu.liver = random.range(48, 66);
    hu.liverVessel = hu.liver - random.range(8, 18); // unenhanced blood is darker than parenchyma
    hu.lesion = hu.liver - random.range(10, 25);
    hu.spleen = hu.liver - random.range(5, 12);
    hu.kidneyCortex = random.range(25, 35);
    hu.kidneyMedulla = hu.kidneyCortex - random.range(0, 5);
    hu.aorta = random.range(35, 50);
    hu.ivc = random.range(35, 50);
    hu.heart = random.range(35, 50);
  } else if (chosen === 'portal-venous') {
    hu.liver = random.range(95, 125);
    hu.liverVessel = hu.liver + random.range(30, 70);
    hu.lesion = hu.liver - random.range(40, 70);
    hu.spleen = hu.liver + random.range(0, 15);
    hu.kidneyCortex = random.range(150, 200);
    hu.kidneyMedulla = hu.kidneyCortex - random.range(10, 50);
    hu.aorta = random.range(140, 190);
    hu.ivc = random.range(120, 170);
    hu.heart = random.range(120, 170);
    hu.stomachWall = random.range(60, 90);
    hu.bowel = random.range(40, 70);
  }
}
