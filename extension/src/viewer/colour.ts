/**
 * DICOM's RecommendedDisplayCIELabValue (PS3.3 C.10.7.1.1: L*, a*, b* scaled to 0-65535) to the
 * sRGB colour the labelmap is drawn in, so the viewer shows the liver in the colour its SEG
 * recommends (core/seg/codes.ts LIVER_CIELAB). CIE L*a*b* with the D65 white point, then sRGB.
 */
export function dicomLabToRgb(lab: readonly [number, number, number]): [number, number, number] {
  const L = (lab[0] * 100) / 65535;
  const a = (lab[1] * 255) / 65535 - 128;
  const b = (lab[2] * 255) / 65535 - 128;
  const fy = (L + 16) / 116;
  const fx = fy + a / 500;
  const fz = fy - b / 200;
  const inverse = (t: number) => (t > 6 / 29 ? t ** 3 : 3 * (6 / 29) ** 2 * (t - 4 / 29));
  const [X, Y, Z] = [0.95047 * inverse(fx), 1 * inverse(fy), 1.08883 * inverse(fz)];
  const linear = [
    3.2404542 * X - 1.5371385 * Y - 0.4985314 * Z,
    -0.969266 * X + 1.8760108 * Y + 0.041556 * Z,
    0.0556434 * X - 0.2040259 * Y + 1.0572252 * Z,
  ];
  const gamma = (c: number) => (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
  return linear.map((c) => Math.round(255 * Math.min(1, Math.max(0, gamma(c))))) as [number, number, number];
}
