/**
 * OHIF mode "Real-time Liver": the CT in axial, coronal and sagittal views, the series list on the
 * left and the rt-liver panel on the right, OHIF's viewing and labelmap editing tools in the
 * toolbar, and DICOM SEG series (ours or any other) opened as labelmaps. Loaded by URL as a runtime
 * plugin.
 */
import packageJson from '../package.json';
import { EXTENSION_VERSION, HANGING_PROTOCOL_ID, MPR_TOOL_GROUP_ID, PANEL_ID } from '../../../extension/src/id';
import { EXTENSION_PLUGIN_URL } from '../../../extension/src/plugins';
import { liverMprProtocol } from '../../../extension/src/getHangingProtocolModule';
import { type AppConfigLike, dataSourceState, installDataSourceBadge } from './dataSourceBadge';
import { showSegmentationsInAllViews } from './segmentationInAllViews';
import { modeTools } from './tools';
import { registerToolbar } from './toolbarButtons';
import { isValidMode } from './validity';

// OHIF's managers are untyped JavaScript.
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const MODE_ID: string = packageJson.name;
export const ROUTE_NAME = 'realtime-liver';
/** Command answering which data source is on screen: `{ current, others }` (dataSourceBadge.ts). */
export const DATA_SOURCE_COMMAND = 'rtLiverDataSource';

const ohif = {
  layout: '@ohif/extension-default.layoutTemplateModule.viewerLayout',
  sopClassHandler: '@ohif/extension-default.sopClassHandlerModule.stack',
  seriesList: '@ohif/extension-default.panelModule.seriesList',
  viewport: '@ohif/extension-cornerstone.viewportModule.cornerstone',
};

/** The host's DICOM SEG support: a SEG series becomes a labelmap over the CT it references. */
export const dicomSeg = {
  sopClassHandler: '@ohif/extension-cornerstone-dicom-seg.sopClassHandlerModule.dicom-seg',
  viewport: '@ohif/extension-cornerstone-dicom-seg.viewportModule.dicom-seg',
};

/**
 * OHIF imports each key of `extensions` again by name, so our extension is listed by its plugin
 * URL (the same string app-config.js loads).
 */
const extensionDependencies = {
  '@ohif/extension-default': '^3.0.0',
  '@ohif/extension-cornerstone': '^3.0.0',
  '@ohif/extension-cornerstone-dicom-seg': '^3.0.0',
  [EXTENSION_PLUGIN_URL]: `^${EXTENSION_VERSION}`,
};

/** The axial, coronal and sagittal viewports of the MPR protocol. */
export const MPR_VIEWPORT_IDS = liverMprProtocol.stages[0].viewports.map((v) => v.viewportOptions.viewportId);

function modeFactory() {
  let unsubscriptions: (() => void)[] = [];
  return {
    id: MODE_ID,
    routeName: ROUTE_NAME,
    displayName: 'Real-time Liver',
    onModeEnter({ servicesManager, extensionManager, commandsManager }: { servicesManager: Loose; extensionManager: Loose; commandsManager?: Loose }) {
      const { toolGroupService, toolbarService, cornerstoneViewportService, customizationService } = servicesManager.services;
      const { toolNames, Enums } = extensionManager.getModuleEntry('@ohif/extension-cornerstone.utilityModule.tools').exports;
      const viewportOrientation = (viewportId: string) => cornerstoneViewportService?.getViewportInfo?.(viewportId)?.viewportOptions?.orientation;
      toolGroupService.createToolGroupAndAddTools(MPR_TOOL_GROUP_ID, modeTools(toolNames, Enums, { withCrosshairs: true, viewportOrientation }));
      // OHIF's fallback layout (a study without a CT volume) and the SEG viewport use 'default'.
      toolGroupService.createToolGroupAndAddTools('default', modeTools(toolNames, Enums));
      registerToolbar(toolbarService, commandsManager as { getCommand: (name: string) => unknown } | undefined, customizationService);
      unsubscriptions.push(showSegmentationsInAllViews(servicesManager.services, MPR_VIEWPORT_IDS));
    },
    onModeExit({ servicesManager }: { servicesManager: Loose }) {
      const { toolGroupService, syncGroupService, segmentationService, uiDialogService, uiModalService } = servicesManager.services;
      unsubscriptions.forEach((unsubscribe) => unsubscribe());
      unsubscriptions = [];
      uiDialogService?.hideAll?.();
      uiModalService?.hide?.();
      toolGroupService.destroy();
      // As OHIF's modes do: no synchronizer or segmentation outlives the mode.
      syncGroupService?.destroy?.();
      segmentationService?.destroy?.();
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
            viewports: [
              { namespace: ohif.viewport, displaySetsToDisplay: [ohif.sopClassHandler] },
              { namespace: dicomSeg.viewport, displaySetsToDisplay: [dicomSeg.sopClassHandler] },
            ],
          },
        }),
      },
    ],
    extensions: extensionDependencies,
    // Our MPR when the study has a CT volume, else OHIF's default single viewport.
    hangingProtocol: [HANGING_PROTOCOL_ID, 'default'],
    // SEG first: OHIF asks the handlers in order, the more specific one before the general one.
    sopClassHandlers: [dicomSeg.sopClassHandler, ohif.sopClassHandler],
  };
}

/**
 * OHIF 3.13 calls a mode's commands module once at start-up, with the app config, before the study
 * list renders: the one place a mode can add to the header there. Its one command tells scripts
 * and tests which data source is on screen (what the header shows).
 */
function getCommandsModule({ appConfig }: { appConfig: AppConfigLike }) {
  installDataSourceBadge(appConfig);
  return {
    definitions: {
      [DATA_SOURCE_COMMAND]: { commandFn: () => dataSourceState(appConfig, globalThis.location) },
    },
    defaultContext: 'WORKLIST',
  };
}

const mode = { id: MODE_ID, modeFactory, extensionDependencies, getCommandsModule };
export default mode;
