/**
 * The Real-time Liver toolbar, in OHIF 3.13's toolbar vocabulary (`toolbarService.register` +
 * `updateSection`, uiTypes and evaluators from @ohif/extension-default, -cornerstone and
 * -cornerstone-dicom-seg). The buttons mirror OHIF's own (`cornerstone.toolbarButtons`,
 * `cornerstone.segmentationToolbarButtons`), but act on our tool groups: OHIF's definitions name
 * the tool groups of its modes ('default', 'mpr', ...), which this mode does not create.
 *
 * Primary section, left to right: window/level (with the CT presets in its list), zoom, pan, stack
 * scroll, crosshairs, length, the labelmap editing tools (brush, eraser, threshold brush, in one
 * list), and "Segment liver".
 */
import { MPR_TOOL_GROUP_ID, SEGMENT_LIVER_COMMAND } from '../../../extension/src/id';
import { BRUSH_TOOLS, CROSSHAIRS_TOOL_NAME } from './tools';

/** Tool groups the mode creates: the MPR viewports' and OHIF's fallback single viewport's. */
export const MODE_TOOL_GROUP_IDS = [MPR_TOOL_GROUP_ID, 'default'];

/** OHIF's main toolbar section (ToolbarService.TOOLBAR_SECTIONS.primary). */
export const PRIMARY_SECTION = 'primary';

export const BUTTON_IDS = {
  windowLevelList: 'WindowLevelTools',
  windowLevel: 'WindowLevel',
  zoom: 'Zoom',
  pan: 'Pan',
  stackScroll: 'StackScroll',
  crosshairs: 'Crosshairs',
  length: 'Length',
  labelmapList: 'LabelmapTools',
  brush: 'Brush',
  eraser: 'Eraser',
  thresholdBrush: 'ThresholdBrush',
  segmentLiver: 'SegmentLiver',
} as const;

export interface WindowLevelPreset {
  id: string;
  description: string;
  window: number;
  level: number;
}

/**
 * CT presets, as in OHIF's `cornerstone.windowLevelPresets` (soft tissue, lung, liver, bone,
 * brain), liver first: it is the organ this mode is for.
 */
export const CT_PRESETS: WindowLevelPreset[] = [
  { id: 'ct-liver', description: 'Liver', window: 150, level: 90 },
  { id: 'ct-soft-tissue', description: 'Soft tissue', window: 400, level: 40 },
  { id: 'ct-lung', description: 'Lung', window: 1500, level: -600 },
  { id: 'ct-bone', description: 'Bone', window: 2500, level: 480 },
  { id: 'ct-brain', description: 'Brain', window: 80, level: 40 },
];

export const presetButtonId = (preset: WindowLevelPreset): string => `WindowLevelPreset-${preset.id}`;

// A button definition as OHIF's ToolbarService takes it (untyped in the host).
export interface ToolbarButton {
  id: string;
  uiType: string;
  props: Record<string, unknown>;
}

/** Makes `toolName` the primary-button tool of every tool group of this mode. */
function activateTool(toolName: string) {
  return { commandName: 'setToolActiveToolbar', commandOptions: { toolName, toolGroupIds: MODE_TOOL_GROUP_IDS } };
}

function toolButton(id: string, icon: string, label: string, tooltip = label): ToolbarButton {
  return {
    id,
    uiType: 'ohif.toolButton',
    props: { type: 'tool', icon, label, tooltip, commands: activateTool(id), evaluate: 'evaluate.cornerstoneTool' },
  };
}

function presetButton(preset: WindowLevelPreset): ToolbarButton {
  return {
    id: presetButtonId(preset),
    uiType: 'ohif.toolButton',
    props: {
      icon: 'tool-window-level',
      label: `${preset.description} (W ${preset.window}, L ${preset.level})`,
      tooltip: `Window/level preset: ${preset.description}`,
      // Applied to the active viewport; the MPR viewports share one VOI sync group.
      commands: { commandName: 'setWindowLevel', commandOptions: { windowWidth: preset.window, windowCenter: preset.level } },
      evaluate: 'evaluate.action',
    },
  };
}

const NO_LABELMAP = 'Segment the liver first: the editing tools act on its labelmap.';

/** A labelmap editing tool: disabled until a segmentation is shown, then edits the active one. */
function labelmapToolButton(id: string, toolName: string, icon: string, label: string): ToolbarButton {
  return {
    id,
    uiType: 'ohif.toolButton',
    props: {
      icon,
      label,
      tooltip: `${label} (on the active segmentation)`,
      commands: [activateTool(toolName), { commandName: 'activateSelectedSegmentationOfType', commandOptions: { segmentationRepresentationType: 'Labelmap' } }],
      evaluate: [
        { name: 'evaluate.cornerstone.segmentation', toolNames: [toolName], disabledText: NO_LABELMAP },
        { name: 'evaluate.cornerstone.hasSegmentationOfType', segmentationRepresentationType: 'Labelmap' },
      ],
    },
  };
}

// OHIF's CommandsManager: only the lookup is needed here.
export interface CommandsLike {
  getCommand: (name: string) => unknown;
}

export const SEGMENT_LIVER_UNAVAILABLE = 'Segment liver is not available: the rt-liver extension did not register its segmentLiver command.';

/** Enabled once the extension's command exists; until then the button says why it cannot run. */
export function segmentLiverEvaluate(commandsManager?: CommandsLike) {
  return () => (commandsManager?.getCommand(SEGMENT_LIVER_COMMAND) ? { disabled: false } : { disabled: true, disabledText: SEGMENT_LIVER_UNAVAILABLE });
}

export function toolbarButtons(commandsManager?: CommandsLike): ToolbarButton[] {
  return [
    // Sections shown as one button with a drop-down list (the active entry on top).
    { id: BUTTON_IDS.windowLevelList, uiType: 'ohif.toolButtonList', props: { buttonSection: true } },
    { id: BUTTON_IDS.labelmapList, uiType: 'ohif.toolButtonList', props: { buttonSection: true } },

    toolButton(BUTTON_IDS.windowLevel, 'tool-window-level', 'Window Level'),
    ...CT_PRESETS.map(presetButton),
    toolButton(BUTTON_IDS.zoom, 'tool-zoom', 'Zoom'),
    toolButton(BUTTON_IDS.pan, 'tool-move', 'Pan'),
    toolButton(BUTTON_IDS.stackScroll, 'tool-stack-scroll', 'Stack Scroll'),
    {
      id: BUTTON_IDS.crosshairs,
      uiType: 'ohif.toolButton',
      props: {
        type: 'tool',
        icon: 'tool-crosshair',
        label: 'Crosshairs',
        tooltip: 'Crosshairs: click to toggle on or off (drag with Shift held)',
        commands: { commandName: 'toggleActiveDisabledToolbar', commandOptions: { toolName: CROSSHAIRS_TOOL_NAME, toolGroupIds: [MPR_TOOL_GROUP_ID] } },
        evaluate: {
          name: 'evaluate.cornerstoneTool.toggleWithModifier',
          disabledText: 'Crosshairs need the axial, coronal and sagittal views',
          toggledOnIcon: 'tool-crosshair-checked',
          defaultIcon: 'tool-crosshair',
        },
      },
    },
    toolButton(BUTTON_IDS.length, 'tool-length', 'Length', 'Length Tool'),

    labelmapToolButton(BUTTON_IDS.brush, BRUSH_TOOLS.brush, 'icon-tool-brush', 'Brush'),
    labelmapToolButton(BUTTON_IDS.eraser, BRUSH_TOOLS.eraser, 'icon-tool-eraser', 'Eraser'),
    labelmapToolButton(BUTTON_IDS.thresholdBrush, BRUSH_TOOLS.thresholdBrush, 'icon-tool-threshold', 'Threshold Brush'),

    {
      id: BUTTON_IDS.segmentLiver,
      uiType: 'ohif.toolButton',
      props: {
        icon: 'tab-segmentation',
        label: 'Segment liver',
        tooltip: 'Segment liver: run the liver model on this CT in the browser',
        commands: { commandName: SEGMENT_LIVER_COMMAND },
        evaluate: segmentLiverEvaluate(commandsManager),
      },
    },
  ];
}

/** Section id -> button ids, applied with `toolbarService.updateSection`. */
export function toolbarSections(): Record<string, string[]> {
  return {
    [PRIMARY_SECTION]: [
      BUTTON_IDS.windowLevelList,
      BUTTON_IDS.zoom,
      BUTTON_IDS.pan,
      BUTTON_IDS.stackScroll,
      BUTTON_IDS.crosshairs,
      BUTTON_IDS.length,
      BUTTON_IDS.labelmapList,
      BUTTON_IDS.segmentLiver,
    ],
    [BUTTON_IDS.windowLevelList]: [BUTTON_IDS.windowLevel, ...CT_PRESETS.map(presetButtonId)],
    [BUTTON_IDS.labelmapList]: [BUTTON_IDS.brush, BUTTON_IDS.eraser, BUTTON_IDS.thresholdBrush],
  };
}

/**
 * OHIF's own per-viewport menus, taken as they are from the cornerstone extension's
 * `cornerstone.toolbarButtons`: the window/level menu in each view's bottom-left corner (the CT
 * presets again, plus colormaps), as in OHIF's modes. They act on the view they sit in, so they
 * need no tool group of ours.
 */
export const HOST_VIEWPORT_MENUS: Record<string, string[]> = { 'viewportActionMenu.bottomLeft': ['windowLevelMenu'] };

// OHIF's services are untyped JavaScript.
interface ToolbarServiceLike {
  register: (buttons: ToolbarButton[], replace?: boolean) => void;
  updateSection: (key: string, buttons: string[]) => void;
}

interface CustomizationLike {
  getCustomization: (id: string) => unknown;
}

export function registerToolbar(toolbarService: ToolbarServiceLike, commandsManager?: CommandsLike, customizationService?: CustomizationLike): void {
  toolbarService.register(toolbarButtons(commandsManager), true);
  for (const [section, buttons] of Object.entries(toolbarSections())) toolbarService.updateSection(section, buttons);
  // The host's menus only where the host has them (a later OHIF may rename them).
  const hostButtons = customizationService?.getCustomization('cornerstone.toolbarButtons');
  const available = Array.isArray(hostButtons) ? (hostButtons as ToolbarButton[]) : [];
  for (const [section, ids] of Object.entries(HOST_VIEWPORT_MENUS)) {
    const found = ids.flatMap((id) => available.filter((b) => b?.id === id));
    if (!found.length) continue;
    toolbarService.register(found);
    toolbarService.updateSection(section, found.map((b) => b.id));
  }
}
