import { EXTENSION_ID, HANGING_PROTOCOL_ID, MPR_TOOL_GROUP_ID, PANEL_ID } from '../../../extension/src/id';
import { EXTENSION_PLUGIN_URL } from '../../../extension/src/plugins';
import { hasCtVolume, liverMprProtocol } from '../../../extension/src/getHangingProtocolModule';
import mode, { ROUTE_NAME } from './index';
import { isValidMode } from './validity';

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

  test('onModeEnter creates the tool groups that onModeExit destroys', () => {
    const created: string[] = [];
    let destroyed = 0;
    const toolGroupService = {
      createToolGroupAndAddTools: (id: string) => created.push(id),
      destroy: () => { destroyed++; created.length = 0; },
    };
    const toolNames = { WindowLevel: 'WindowLevel', Pan: 'Pan', Zoom: 'Zoom', StackScroll: 'StackScroll', Length: 'Length', Probe: 'Probe' };
    const Enums = { MouseBindings: { Primary: 1, Auxiliary: 4, Secondary: 2, Wheel: 524288 } };
    const servicesManager = { services: { toolGroupService } };
    const extensionManager = { getModuleEntry: () => ({ exports: { toolNames, Enums } }) };
    instance.onModeEnter({ servicesManager, extensionManager });
    expect(created).toEqual([MPR_TOOL_GROUP_ID, 'default']);
    instance.onModeExit({ servicesManager });
    expect({ destroyed, left: created.length }).toEqual({ destroyed: 1, left: 0 });
  });
});

test('the MPR protocol matches only a study with a reconstructable CT', () => {
  const study = { StudyInstanceUID: 's' };
  expect(hasCtVolume(study, { displaySets: [{ StudyInstanceUID: 's', Modality: 'CT', isReconstructable: true }] })).toBe(true);
  expect(hasCtVolume(study, { displaySets: [{ StudyInstanceUID: 's', Modality: 'CT', isReconstructable: false }] })).toBe(false);
  expect(hasCtVolume(study, { displaySets: [{ StudyInstanceUID: 's', Modality: 'MR', isReconstructable: true }] })).toBe(false);
  expect(hasCtVolume(study, {})).toBe(false);
});
