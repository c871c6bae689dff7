/**
 * Axial / coronal / sagittal volume viewports of the study's CT series (the largest reconstructable
 * one). A study without such a series does not match, and OHIF falls back to its default layout
 * (one stack viewport); the panel then explains why segmentation is not available.
 */
import { HANGING_PROTOCOL_ID, MPR_TOOL_GROUP_ID } from './id';

/** Custom hanging-protocol attribute: does the study have a CT series that forms a volume? */
export const HAS_CT_VOLUME_ATTRIBUTE = 'rtLiverHasCtVolume';

interface DisplaySetLike {
  StudyInstanceUID?: string;
  Modality?: string;
  isReconstructable?: boolean;
}

export function hasCtVolume(study: { StudyInstanceUID?: string }, options?: { displaySets?: DisplaySetLike[] }): boolean {
  return (options?.displaySets ?? []).some(
    (ds) => (!study?.StudyInstanceUID || ds.StudyInstanceUID === study.StudyInstanceUID) && ds.Modality === 'CT' && ds.isReconstructable === true,
  );
}

// OHIF's hanging protocol service is untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function registerHangingProtocolAttributes(hangingProtocolService: any): void {
  hangingProtocolService?.addCustomAttribute?.(HAS_CT_VOLUME_ATTRIBUTE, 'Study has a CT volume', hasCtVolume);
}

const VOI_SYNC_GROUP = { type: 'voi', id: 'rt-liver-voi', source: true, target: true, options: { syncColormap: true } };

function viewport(orientation: 'axial' | 'coronal' | 'sagittal') {
  return {
    viewportOptions: {
      viewportId: `rt-liver-${orientation}`,
      toolGroupId: MPR_TOOL_GROUP_ID,
      viewportType: 'volume',
      orientation,
      initialImageOptions: { preset: 'middle' },
      syncGroups: [VOI_SYNC_GROUP],
    },
    displaySets: [{ id: 'ctDisplaySet' }],
  };
}

export const liverMprProtocol = {
  id: HANGING_PROTOCOL_ID,
  name: 'Real-time Liver MPR',
  locked: true,
  createdDate: '2026-11-25',
  modifiedDate: '2026-11-25',
  availableTo: {},
  editableBy: {},
  protocolMatchingRules: [
    { weight: 10, attribute: HAS_CT_VOLUME_ATTRIBUTE, constraint: { equals: { value: true } }, required: true },
  ],
  imageLoadStrategy: 'interleaveCenter',
  displaySetSelectors: {
    ctDisplaySet: {
      seriesMatchingRules: [
        { weight: 1, attribute: 'isReconstructable', constraint: { equals: { value: true } }, required: true },
        { weight: 1, attribute: 'Modality', constraint: { equals: { value: 'CT' } }, required: true },
        // Among CT series, prefer the one with the most images.
        { weight: 1, attribute: 'numImageFrames', constraint: { greaterThan: { value: 1 } } },
      ],
    },
  },
  stages: [
    {
      name: 'Axial, coronal, sagittal',
      viewportStructure: { layoutType: 'grid', properties: { rows: 1, columns: 3 } },
      viewports: [viewport('axial'), viewport('coronal'), viewport('sagittal')],
    },
  ],
};

export default function getHangingProtocolModule() {
  return [{ name: HANGING_PROTOCOL_ID, protocol: liverMprProtocol }];
}
