/**
 * Where the server publishes our two runtime plugins. OHIF imports each by URL (`import(url)`),
 * and re-imports the keys of a mode's `extensions` object, so the mode lists the extension by this
 * same URL. webpack.config.js writes the files under these names; scripts/server serves them.
 */
export const PLUGIN_PATH = '/plugins';
export const EXTENSION_PLUGIN_FILE = 'rt-liver-extension.js';
export const MODE_PLUGIN_FILE = 'rt-liver-mode.js';
export const EXTENSION_PLUGIN_URL = `${PLUGIN_PATH}/${EXTENSION_PLUGIN_FILE}`;
export const MODE_PLUGIN_URL = `${PLUGIN_PATH}/${MODE_PLUGIN_FILE}`;

/** Data source names in app-config.js: the embedded static store and the optional PACS. */
export const LOCAL_DATA_SOURCE = 'local';
export const PACS_DATA_SOURCE = 'pacs';

/** Where the server serves our copy of onnxruntime-web (OHIF's dist has its own, older, /ort). */
export const ORT_PATH = '/rt-liver/ort';
/** Server status for the viewer: PACS reachability and credentials. */
export const PACS_STATUS_PATH = '/rt-liver/api/pacs';
