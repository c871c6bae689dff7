/**
 * OHIF mode "Real-time Liver": the CT in axial, coronal and sagittal views, the series list on the
 * left and the rt-liver panel on the right. Loaded by URL as a runtime plugin.
 */
import packageJson from '../package.json';
import { EXTENSION_VERSION, HANGING_PROTOCOL_ID, MPR_TOOL_GROUP_ID, PANEL_ID } from '../../../extension/src/id';
import { EXTENSION_PLUGIN_URL } from '../../../extension/src/plugins';
import { mprTools } from './tools';
import { isValidMode } from './validity';

// OHIF's managers are untyped JavaScript.
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const MODE_ID: string = packageJson.name;
export const ROUTE_NAME = 'realtime-liver';

const ohif = {
  layout: '@ohif/extension-default.layoutTemplateModule.viewerLayout',
  sopClassHandler: '@ohif/extension-default.sopClassHandlerModule.stack',
  seriesList: '@ohif/extension-default.panelModule.seriesList',
  viewport: '@ohif/extension-cornerstone.viewportModule.cornerstone',
};

/**
 * OHIF imports each key of `extensions` again by name, so our extension is listed by its plugin
 * URL (the same string app-config.js loads).
 */
const extensionDependencies = {
  '@ohif/extension-default': '^3.0.0',
  '@ohif/extension-cornerstone': '^3.0.0',
  [EXTENSION_PLUGIN_URL]: `^${EXTENSION_VERSION}`,
};

function modeFactory() {
  return {
    id: MODE_ID,
    routeName: ROUTE_NAME,
    displayName: 'Real-time Liver',
    onModeEnter({ servicesManager, extensionManager }: { servicesManager: Loose; extensionManager: Loose }) {
      const { toolGroupService } = servicesManager.services;
      const { toolNames, Enums } = extensionManager.getModuleEntry('@ohif/extension-cornerstone.utilityModule.tools').exports;
      toolGroupService.createToolGroupAndAddTools(MPR_TOOL_GROUP_ID, mprTools(toolNames, Enums));
      // OHIF's fallback layout (a study without a CT volume) uses the 'default' tool group.
      toolGroupService.createToolGroupAndAddTools('default', mprTools(toolNames, Enums));
    },
    onModeExit({ servicesManager }: { servicesManager: Loose }) {
      const { toolGroupService, uiDialogService, uiModalService } = servicesManager.services;
      uiDialogService?.hideAll?.();
      uiModalService?.hide?.();
      toolGroupService.destroy();
    },
    validationTags: { study: [], series: [] },
    isValidMode,
    routes: [
      {
        path: ROUTE_NAME,
        layoutTemplate: () => ({
          id: ohif.layout,
          props: {
            leftPanels: [ohif.seriesList],
            leftPanelClosed: false,
            rightPanels: [PANEL_ID],
            rightPanelClosed: false,
            viewports: [{ namespace: ohif.viewport, displaySetsToDisplay: [ohif.sopClassHandler] }],
          },
        }),
      },
    ],
    extensions: extensionDependencies,
    // Our MPR when the study has a CT volume, else OHIF's default single viewport.
    hangingProtocol: [HANGING_PROTOCOL_ID, 'default'],
    sopClassHandlers: [ohif.sopClassHandler],
  };
}

const mode = { id: MODE_ID, modeFactory, extensionDependencies };
export default mode;
