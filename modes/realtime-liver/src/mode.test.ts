import { EXTENSION_ID, HANGING_PROTOCOL_ID, MPR_TOOL_GROUP_ID, PANEL_ID } from '../../../extension/src/id';
import { EXTENSION_PLUGIN_URL } from '../../../extension/src/plugins';
import { hasCtVolume, liverMprProtocol } from '../../../extension/src/getHangingProtocolModule';
import { dataSourceState, installDataSourceBadge, renderDataSourceBadge } from './dataSourceBadge';
import mode, { DATA_SOURCE_COMMAND, MPR_VIEWPORT_IDS, ROUTE_NAME, dicomSeg } from './index';
import { showSegmentationsInAllViews } from './segmentationInAllViews';
import { BRUSH_TOOLS, CROSSHAIRS_TOOL_NAME, LIVER_THRESHOLD_HU, modeTools } from './tools';
import { BUTTON_IDS, CT_PRESETS, SEGMENT_LIVER_UNAVAILABLE, MODE_TOOL_GROUP_IDS, PRIMARY_SECTION, registerToolbar, toolbarButtons, toolbarSections } from './toolbarButtons';
import { isValidMode } from './validity';
import { SEGMENT_LIVER_COMMAND } from '../../../extension/src/id';

describe('isValidMode', () => {
  test('valid for a study with a CT series', () => {
    expect(isValidMode({ modalities: 'CT\\RTSTRUCT' })).toEqual({ valid: true, description: 'Liver segmentation of the CT series.' });
  });

  test('not valid without CT, and says what the study has', () => {
    expect(isValidMode({ modalities: 'RWV\\SEG\\SR' })).toEqual({
      valid: false,
      description: 'Real-time Liver needs a CT series; this study has RWV, SEG, SR.',
    });
    expect(isValidMode({}).valid).toBe(false);
  });
});

describe('the mode definition', () => {
  const instance = mode.modeFactory();

  test('lists our extension by its plugin URL, which OHIF imports again', () => {
    expect(Object.keys(mode.extensionDependencies)).toContain(EXTENSION_PLUGIN_URL);
    expect(instance.extensions).toBe(mode.extensionDependencies);
  });

  test('lays out the series list, the viewports and our panel, on the MPR protocol', () => {
    expect(instance.routeName).toBe(ROUTE_NAME);
    const layout = instance.routes[0].layoutTemplate();
    expect(layout.props.rightPanels).toEqual([PANEL_ID]);
    expect(PANEL_ID).toBe(`${EXTENSION_ID}.panelModule.liver`);
    expect(instance.hangingProtocol).toEqual([HANGING_PROTOCOL_ID, 'default']);
    const orientations = liverMprProtocol.stages[0].viewports.map((v) => v.viewportOptions.orientation);
    expect(orientations).toEqual(['axial', 'coronal', 'sagittal']);
    expect(liverMprProtocol.stages[0].viewports.every((v) => v.viewportOptions.toolGroupId === MPR_TOOL_GROUP_ID)).toBe(true);
  });

  test('opens SEG series with the host\'s SEG handler and viewport, the specific handler before the general one', () => {
    expect(Object.keys(instance.extensions)).toContain('@ohif/extension-cornerstone-dicom-seg');
    expect(instance.sopClassHandlers).toEqual([dicomSeg.sopClassHandler, '@ohif/extension-default.sopClassHandlerModule.stack']);
    const { viewports } = instance.routes[0].layoutTemplate().props;
    expect(viewports).toContainEqual({ namespace: dicomSeg.viewport, displaySetsToDisplay: [dicomSeg.sopClassHandler] });
    // Every handler the mode lists is shown by one of its viewports.
    expect(viewports.flatMap((v: { displaySetsToDisplay: string[] }) => v.displaySetsToDisplay).sort()).toEqual([...instance.sopClassHandlers].sort());
  });

  function fakeServices() {
    const created: Record<string, ReturnType<typeof modeTools>> = {};
    const buttons: Record<string, { id: string; props: Record<string, unknown> }> = {};
    const sections: Record<string, string[]> = {};
    const destroyed: string[] = [];
    const services = {
      toolGroupService: {
        createToolGroupAndAddTools: (id: string, tools: ReturnType<typeof modeTools>) => { created[id] = tools; },
        destroy: () => { destroyed.push('toolGroups'); for (const id of Object.keys(created)) delete created[id]; },
      },
      toolbarService: {
        register: (list: { id: string; props: Record<string, unknown> }[]) => list.forEach((b) => { buttons[b.id] = b; }),
        updateSection: (key: string, ids: string[]) => { sections[key] = ids; },
      },
      syncGroupService: { destroy: () => destroyed.push('syncGroups') },
      segmentationService: {
        EVENTS: { SEGMENTATION_REPRESENTATION_MODIFIED: 'modified' },
        subscribe: () => ({ unsubscribe: () => destroyed.push('subscription') }),
        destroy: () => destroyed.push('segmentations'),
      },
      cornerstoneViewportService: { getViewportInfo: (id: string) => ({ viewportOptions: { orientation: id.replace('rt-liver-', '') } }) },
    };
    return { services, created, buttons, sections, destroyed };
  }

  const toolNames = { WindowLevel: 'WindowLevel', Pan: 'Pan', Zoom: 'Zoom', StackScroll: 'StackScroll', Length: 'Length', Probe: 'Probe' };
  const Enums = { MouseBindings: { Primary: 1, Auxiliary: 4, Secondary: 2, Wheel: 524288 }, KeyboardBindings: { Shift: 16 } };
  const extensionManager = { getModuleEntry: () => ({ exports: { toolNames, Enums } }) };

  test('onModeEnter creates the tool groups and the toolbar; onModeExit destroys groups, synchronizers and segmentations', () => {
    const fake = fakeServices();
    instance.onModeEnter({ servicesManager: { services: fake.services }, extensionManager });
    expect(Object.keys(fake.created)).toEqual([MPR_TOOL_GROUP_ID, 'default']);
    expect(fake.sections[PRIMARY_SECTION]).toContain(BUTTON_IDS.segmentLiver);
    instance.onModeExit({ servicesManager: { services: fake.services } });
    expect({ destroyed: fake.destroyed, left: Object.keys(fake.created) }).toEqual({ destroyed: ['subscription', 'toolGroups', 'syncGroups', 'segmentations'], left: [] });
  });

  test('the MPR group has crosshairs (off until toggled, dragged with Shift) coloured by orientation; both groups have the brushes', () => {
    const fake = fakeServices();
    instance.onModeEnter({ servicesManager: { services: fake.services }, extensionManager });
    const mpr = fake.created[MPR_TOOL_GROUP_ID];
    const [cross] = mpr.disabled;
    expect(cross.toolName).toBe(CROSSHAIRS_TOOL_NAME);
    expect(cross.bindings).toEqual([{ mouseButton: 1, modifierKey: 16 }]);
    expect(['rt-liver-axial', 'rt-liver-coronal', 'rt-liver-sagittal', 'elsewhere'].map(cross.configuration.getReferenceLineColor))
      .toEqual(['rgb(200, 0, 0)', 'rgb(0, 200, 0)', 'rgb(200, 200, 0)', '#0c0']);
    expect(fake.created.default.disabled).toEqual([]);
    for (const group of [mpr, fake.created.default]) {
      expect(group.active.find((t) => t.bindings.some((b: { mouseButton?: number }) => b.mouseButton === 1))?.toolName).toBe('WindowLevel');
      const brushes = group.passive.filter((t: { parentTool?: string }) => t.parentTool === 'Brush');
      expect(brushes.map((t) => [t.toolName, t.configuration.activeStrategy])).toEqual([
        [BRUSH_TOOLS.brush, 'FILL_INSIDE_CIRCLE'],
        [BRUSH_TOOLS.eraser, 'ERASE_INSIDE_CIRCLE'],
        [BRUSH_TOOLS.thresholdBrush, 'THRESHOLD_INSIDE_CIRCLE'],
      ]);
      expect(brushes[2].configuration.threshold.range).toEqual(LIVER_THRESHOLD_HU);
    }
  });
});

describe('a segmentation shown in one MPR view', () => {
  function world() {
    const representations: Record<string, string[]> = { a: ['seg'], b: [], c: [], preview: [] };
    let listener: () => void = () => undefined;
    const services = {
      segmentationService: {
        EVENTS: { SEGMENTATION_REPRESENTATION_MODIFIED: 'modified' },
        subscribe: (_event: string, callback: () => void) => { listener = callback; return { unsubscribe: () => { listener = () => undefined; } }; },
        getSegmentations: () => [{ segmentationId: 'seg' }],
        getSegmentationRepresentations: (viewportId: string, { segmentationId }: { segmentationId: string }) => representations[viewportId].filter((id) => id === segmentationId),
        addSegmentationRepresentation: async (viewportId: string, { segmentationId }: { segmentationId: string }) => { representations[viewportId].push(segmentationId); },
      },
      viewportGridService: { getDisplaySetsUIDsForViewport: (id: string) => [id === 'preview' ? 'seg-ds' : 'ct-ds'] },
      displaySetService: { getDisplaySetByUID: (uid: string) => ({ Modality: uid === 'seg-ds' ? 'SEG' : 'CT' }) },
      cornerstoneViewportService: { getCornerstoneViewport: (id: string) => (id === 'gone' ? undefined : { id }) },
    };
    return { services, representations, fire: () => listener() };
  }

  test('is added to the other views, not to one showing the SEG preview, and stops on unsubscribe', async () => {
    const { services, representations, fire } = world();
    const unsubscribe = showSegmentationsInAllViews(services, ['a', 'b', 'c', 'preview', 'gone']);
    fire();
    await new Promise((done) => setTimeout(done, 0));
    expect(representations).toEqual({ a: ['seg'], b: ['seg'], c: ['seg'], preview: [] });
    unsubscribe();
    representations.b = [];
    fire();
    await new Promise((done) => setTimeout(done, 0));
    expect(representations.b).toEqual([]);
  });

  test('the MPR viewports are the protocol\'s three', () => {
    expect(MPR_VIEWPORT_IDS).toEqual(['rt-liver-axial', 'rt-liver-coronal', 'rt-liver-sagittal']);
  });
});

describe('the toolbar', () => {
  const buttons = Object.fromEntries(toolbarButtons().map((b) => [b.id, b]));
  const sections = toolbarSections();

  test('every button a section names is defined, and every section button is shown', () => {
    for (const ids of Object.values(sections)) for (const id of ids) expect({ id, defined: id in buttons }).toEqual({ id, defined: true });
    const shown = new Set(Object.values(sections).flat());
    expect(Object.keys(buttons).filter((id) => !shown.has(id))).toEqual([]);
  });

  test('the primary bar: window/level (with presets), zoom, pan, scroll, crosshairs, length, labelmap tools, Segment liver', () => {
    expect(sections[PRIMARY_SECTION]).toEqual(['WindowLevelTools', 'Zoom', 'Pan', 'StackScroll', 'Crosshairs', 'Length', 'LabelmapTools', 'SegmentLiver']);
    expect(sections.WindowLevelTools[0]).toBe('WindowLevel');
    expect(sections.LabelmapTools).toEqual(['Brush', 'Eraser', 'ThresholdBrush']);
  });

  test('tool buttons activate their tool in our tool groups (OHIF\'s own buttons name groups this mode lacks)', () => {
    for (const id of ['WindowLevel', 'Zoom', 'Pan', 'StackScroll', 'Length']) {
      expect(buttons[id].props.commands).toEqual({ commandName: 'setToolActiveToolbar', commandOptions: { toolName: id, toolGroupIds: MODE_TOOL_GROUP_IDS } });
      expect(buttons[id].props.evaluate).toBe('evaluate.cornerstoneTool');
    }
    expect(MODE_TOOL_GROUP_IDS).toEqual([MPR_TOOL_GROUP_ID, 'default']);
    expect(buttons.Crosshairs.props.commands).toEqual({ commandName: 'toggleActiveDisabledToolbar', commandOptions: { toolName: 'Crosshairs', toolGroupIds: [MPR_TOOL_GROUP_ID] } });
  });

  test('CT presets set the window and level OHIF lists for CT', () => {
    expect(CT_PRESETS.map((p) => [p.description, p.window, p.level])).toEqual([
      ['Liver', 150, 90], ['Soft tissue', 400, 40], ['Lung', 1500, -600], ['Bone', 2500, 480], ['Brain', 80, 40],
    ]);
    expect(buttons['WindowLevelPreset-ct-liver'].props.commands).toEqual({ commandName: 'setWindowLevel', commandOptions: { windowWidth: 150, windowCenter: 90 } });
  });

  test('labelmap tools are disabled until there is a labelmap, then act on the active segmentation', () => {
    const brush = buttons.Brush.props as { commands: { commandName: string; commandOptions: Record<string, unknown> }[]; evaluate: { name: string; toolNames?: string[] }[] };
    expect(brush.commands.map((c) => c.commandName)).toEqual(['setToolActiveToolbar', 'activateSelectedSegmentationOfType']);
    expect(brush.commands[0].commandOptions.toolName).toBe(BRUSH_TOOLS.brush);
    expect(brush.evaluate.map((e) => e.name)).toEqual(['evaluate.cornerstone.segmentation', 'evaluate.cornerstone.hasSegmentationOfType']);
    expect((buttons.ThresholdBrush.props.commands as { commandOptions: { toolName: string } }[])[0].commandOptions.toolName).toBe(BRUSH_TOOLS.thresholdBrush);
  });

  test('"Segment liver" runs the extension\'s command, and says why it cannot while there is none', () => {
    expect(buttons.SegmentLiver.props.commands).toEqual({ commandName: SEGMENT_LIVER_COMMAND });
    expect(SEGMENT_LIVER_COMMAND).toBe('segmentLiver');
    const registered = new Set<string>();
    const evaluate = toolbarButtons({ getCommand: (name) => (registered.has(name) ? { commandFn: () => undefined } : undefined) })
      .find((b) => b.id === 'SegmentLiver')!.props.evaluate as () => { disabled: boolean; disabledText?: string };
    expect(evaluate()).toEqual({ disabled: true, disabledText: SEGMENT_LIVER_UNAVAILABLE });
    registered.add(SEGMENT_LIVER_COMMAND);
    expect(evaluate()).toEqual({ disabled: false });
  });

  test('registerToolbar registers the buttons, replacing same-id definitions, then the sections', () => {
    const calls: string[] = [];
    registerToolbar({ register: (list, replace) => calls.push(`register ${list.length} replace=${replace}`), updateSection: (key) => calls.push(`section ${key}`) });
    expect(calls).toEqual([`register ${toolbarButtons().length} replace=true`, 'section primary', 'section WindowLevelTools', 'section LabelmapTools']);
  });

  test('and OHIF\'s own window/level menu in each view\'s corner, when the host has it', () => {
    const sections: Record<string, string[]> = {};
    const registered: string[] = [];
    const toolbarService = { register: (list: { id: string }[]) => registered.push(...list.map((b) => b.id)), updateSection: (key: string, ids: string[]) => { sections[key] = ids; } };
    const hostPack = [{ id: 'windowLevelMenu', uiType: 'ohif.windowLevelMenu', props: {} }, { id: 'Reset', uiType: 'ohif.toolButton', props: {} }];
    registerToolbar(toolbarService, undefined, { getCustomization: (id) => (id === 'cornerstone.toolbarButtons' ? hostPack : undefined) });
    expect(sections['viewportActionMenu.bottomLeft']).toEqual(['windowLevelMenu']);
    expect(registered).toContain('windowLevelMenu');
    expect(registered).not.toContain('Reset');
    const without: Record<string, string[]> = {};
    registerToolbar({ register: () => undefined, updateSection: (key, ids) => { without[key] = ids; } }, undefined, { getCustomization: () => undefined });
    expect(Object.keys(without)).toEqual(['primary', 'WindowLevelTools', 'LabelmapTools']);
  });
});

describe('the data source badge', () => {
  const config = {
    defaultDataSourceName: 'local',
    dataSources: [
      { sourceName: 'local', configuration: { friendlyName: 'rt-liver local studies' } },
      { sourceName: 'pacs', configuration: { friendlyName: 'Hospital PACS' } },
      { sourceName: 'dicomlocal', configuration: { friendlyName: 'Local files' } },
    ],
  };
  const at = (url: string) => { const u = new URL(url, 'http://x'); return { pathname: u.pathname, search: u.search }; };

  test('names the data source of the viewer route, of the study list parameter, or the default', () => {
    expect(dataSourceState(config, at('/realtime-liver/pacs?StudyInstanceUIDs=1'))?.current.label).toBe('Hospital PACS');
    expect(dataSourceState(config, at('/?datasources=pacs'))?.current.name).toBe('pacs');
    expect(dataSourceState(config, at('/?DataSources=PACS'))?.current.name).toBe('pacs');
    expect(dataSourceState(config, at('/'))?.current.name).toBe('local');
    expect(dataSourceState(config, at('/realtime-liver/nowhere?x=1'))?.current.name).toBe('local');
    expect(dataSourceState({ dataSources: [] }, at('/'))).toBeUndefined();
  });

  test('links to the study list of every other data source (not to local-file sources)', () => {
    expect(dataSourceState(config, at('/'))?.others).toEqual([{ name: 'pacs', label: 'Hospital PACS', href: '/?datasources=pacs' }]);
    expect(dataSourceState(config, at('/viewer/pacs'))?.others.map((o) => o.href)).toEqual(['/?datasources=local']);
    // Under a router base path, the routes and links are below it.
    const based = { ...config, routerBasename: '/ohif' };
    expect(dataSourceState(based, at('/ohif/realtime-liver/pacs?StudyInstanceUIDs=1'))?.current.name).toBe('pacs');
    expect(dataSourceState(based, at('/ohif/realtime-liver/pacs'))?.others.map((o) => o.href)).toEqual(['/ohif/?datasources=local']);
  });

  test('renders the current name and the links with the React it is given', () => {
    type El = { type: string; props: Record<string, unknown>; children: unknown[] };
    const React = { createElement: (type: string, props?: Record<string, unknown> | null, ...children: unknown[]): El => ({ type, props: props ?? {}, children }) };
    const state = dataSourceState(config, at('/realtime-liver/local?StudyInstanceUIDs=1'))!;
    const root = renderDataSourceBadge(React, state) as El;
    expect(root.props['data-testid']).toBe('rt-liver-data-source');
    expect(root.props['data-source']).toBe('local');
    const children = root.children as El[];
    expect(children.map((c) => c.children.join(''))).toEqual(['rt-liver', 'Data source:', 'rt-liver local studies', 'Hospital PACS study list']);
    expect(children[3].props.href).toBe('/?datasources=pacs');
  });

  test('installs itself in the header logo slot unless the app config has its own logo', () => {
    const appConfig: Record<string, unknown> = { ...config };
    expect(installDataSourceBadge(appConfig, { location: at('/?datasources=pacs') })).toBe(true);
    const logo = (appConfig.whiteLabeling as { createLogoComponentFn: (React: unknown) => { props: Record<string, unknown> } }).createLogoComponentFn({
      createElement: (type: string, props: Record<string, unknown>) => ({ type, props }),
    });
    expect(logo.props['data-source']).toBe('pacs');
    const own = { whiteLabeling: { createLogoComponentFn: () => 'ours' } };
    expect(installDataSourceBadge(own, { location: at('/') })).toBe(false);
    expect(own.whiteLabeling.createLogoComponentFn()).toBe('ours');
    const commands = mode.getCommandsModule({ appConfig: { dataSources: [] } });
    expect(commands.defaultContext).toBe('WORKLIST');
    expect(Object.keys(commands.definitions)).toEqual([DATA_SOURCE_COMMAND]);
    const realLocation = globalThis.location;
    Object.defineProperty(globalThis, 'location', { value: at('/?datasources=pacs'), configurable: true });
    try {
      const answer = mode.getCommandsModule({ appConfig: config }).definitions[DATA_SOURCE_COMMAND].commandFn();
      expect(answer?.current.name).toBe('pacs');
    } finally {
      Object.defineProperty(globalThis, 'location', { value: realLocation, configurable: true });
    }
  });
});

test('the MPR protocol matches only a study with a reconstructable CT', () => {
  const study = { StudyInstanceUID: 's' };
  expect(hasCtVolume(study, { displaySets: [{ StudyInstanceUID: 's', Modality: 'CT', isReconstructable: true }] })).toBe(true);
  expect(hasCtVolume(study, { displaySets: [{ StudyInstanceUID: 's', Modality: 'CT', isReconstructable: false }] })).toBe(false);
  expect(hasCtVolume(study, { displaySets: [{ StudyInstanceUID: 's', Modality: 'MR', isReconstructable: true }] })).toBe(false);
  expect(hasCtVolume(study, {})).toBe(false);
});
