/**
 * Is the Real-time Liver mode offered for a study? Only when the study has a CT series; otherwise
 * the study list shows the reason. (Opened anyway by URL, the panel explains the same.)
 */
export function isValidMode({ modalities }: { modalities?: string }): { valid: boolean; description: string } {
  const list = (modalities ?? '').split(/[\\,]/).map((m) => m.trim()).filter(Boolean);
  if (list.includes('CT')) return { valid: true, description: 'Liver segmentation of the CT series.' };
  return {
    valid: false,
    description: `Real-time Liver needs a CT series; this study has ${list.length ? list.join(', ') : 'no series with a modality'}.`,
  };
}
