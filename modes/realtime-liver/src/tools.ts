/**
 * Mouse bindings of the MPR tool group: window/level, pan, zoom, scroll. Created on mode enter and
 * destroyed on exit.
 */
// OHIF's utility module exports are untyped.
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function mprTools(toolNames: Loose, Enums: Loose) {
  return {
    active: [
      { toolName: toolNames.WindowLevel, bindings: [{ mouseButton: Enums.MouseBindings.Primary }] },
      { toolName: toolNames.Pan, bindings: [{ mouseButton: Enums.MouseBindings.Auxiliary }] },
      { toolName: toolNames.Zoom, bindings: [{ mouseButton: Enums.MouseBindings.Secondary }, { numTouchPoints: 2 }] },
      { toolName: toolNames.StackScroll, bindings: [{ mouseButton: Enums.MouseBindings.Wheel }, { numTouchPoints: 3 }] },
    ],
    passive: [{ toolName: toolNames.Length }, { toolName: toolNames.Probe }],
    enabled: [],
    disabled: [],
  };
}
