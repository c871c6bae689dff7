/**
 * Identity of the extension and its module ids, derived once here so the mode and the tests use
 * typed constants instead of retyping dotted strings.
 */
import packageJson from '../package.json';

export const EXTENSION_ID: string = packageJson.name; // '@rt-liver/extension'
export const EXTENSION_VERSION: string = packageJson.version;

export const PANEL_NAME = 'liver';
export const PANEL_ID = `${EXTENSION_ID}.panelModule.${PANEL_NAME}`;

export const HANGING_PROTOCOL_ID = 'rt-liver-mpr';
/** Tool group of the three MPR viewports (created by the mode). */
export const MPR_TOOL_GROUP_ID = 'rt-liver-mpr';

/** The extension's command that segments the CT on screen (run by the mode's toolbar button). */
export const SEGMENT_LIVER_COMMAND = 'segmentLiver';
