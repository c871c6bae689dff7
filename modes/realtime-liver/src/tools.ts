/**
 * The tools of the mode's tool groups, created on mode enter and destroyed on exit. Mouse
 * bindings as in OHIF's modes: window/level on the left button, pan on the middle, zoom on the
 * right, scroll on the wheel. The toolbar (toolbarButtons.ts) moves the left button between
 * them, the length tool and the labelmap editing tools; crosshairs (MPR only) are toggled on and
 * off and drag with Shift held, as in OHIF 3.13's MPR tool group.
 */
// OHIF's utility module exports are untyped.
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const CROSSHAIRS_TOOL_NAME = 'Crosshairs';

/** Labelmap editing tools: instances of Cornerstone3D's BrushTool with one strategy each. */
export const BRUSH_TOOLS = {
  brush: 'CircularBrush',
  eraser: 'CircularEraser',
  thresholdBrush: 'ThresholdCircularBrush',
} as const;

/** Brush radius limits in mm, as OHIF's segmentation tools. */
const MIN_RADIUS = 0.5;
const MAX_RADIUS = 99.5;

/**
 * The threshold brush paints only voxels in this HU range: liver parenchyma, contrast-enhanced or
 * not, lies within it; fat, air and bone do not.
 */
export const LIVER_THRESHOLD_HU: [number, number] = [-20, 250];

export function brushTools(): Loose[] {
  const brush = (toolName: string, activeStrategy: string, extra: Loose = {}) => ({
    toolName,
    parentTool: 'Brush',
    configuration: { activeStrategy, minRadius: MIN_RADIUS, maxRadius: MAX_RADIUS, ...extra },
  });
  return [
    brush(BRUSH_TOOLS.brush, 'FILL_INSIDE_CIRCLE'),
    brush(BRUSH_TOOLS.eraser, 'ERASE_INSIDE_CIRCLE'),
    brush(BRUSH_TOOLS.thresholdBrush, 'THRESHOLD_INSIDE_CIRCLE', { threshold: { range: LIVER_THRESHOLD_HU, isDynamic: false } }),
  ];
}

const REFERENCE_LINE_COLOURS: Record<string, string> = {
  axial: 'rgb(200, 0, 0)',
  sagittal: 'rgb(200, 200, 0)',
  coronal: 'rgb(0, 200, 0)',
};

/** Crosshairs for the MPR views, coloured by the orientation of the viewport they come from. */
function crosshairs(Enums: Loose, viewportOrientation: (viewportId: string) => string | undefined): Loose {
  return {
    toolName: CROSSHAIRS_TOOL_NAME,
    bindings: [{ mouseButton: Enums.MouseBindings.Primary, modifierKey: Enums.KeyboardBindings.Shift }],
    configuration: {
      viewportIndicators: true,
      viewportIndicatorsConfig: { circleRadius: 5, xOffset: 0.95, yOffset: 0.05 },
      autoPan: { enabled: false, panSize: 10 },
      getReferenceLineColor: (viewportId: string) => REFERENCE_LINE_COLOURS[viewportOrientation(viewportId) ?? ''] ?? '#0c0',
    },
  };
}

export interface ToolGroupOptions {
  /** The MPR group gets crosshairs; they need volume viewports in three orientations. */
  withCrosshairs: boolean;
  viewportOrientation?: (viewportId: string) => string | undefined;
}

export function modeTools(toolNames: Loose, Enums: Loose, options: ToolGroupOptions = { withCrosshairs: false }) {
  return {
    active: [
      { toolName: toolNames.WindowLevel, bindings: [{ mouseButton: Enums.MouseBindings.Primary }] },
      { toolName: toolNames.Pan, bindings: [{ mouseButton: Enums.MouseBindings.Auxiliary }] },
      { toolName: toolNames.Zoom, bindings: [{ mouseButton: Enums.MouseBindings.Secondary }, { numTouchPoints: 2 }] },
      { toolName: toolNames.StackScroll, bindings: [{ mouseButton: Enums.MouseBindings.Wheel }, { numTouchPoints: 3 }] },
    ],
    passive: [{ toolName: toolNames.Length }, { toolName: toolNames.Probe }, ...brushTools()],
    enabled: [],
    disabled: options.withCrosshairs ? [crosshairs(Enums, options.viewportOrientation ?? (() => undefined))] : [],
  };
}
