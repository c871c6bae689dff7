/**
 * The Real-time Liver mode's toolbar in Debian's Chromium, on the demo phantom: OHIF's viewing
 * tools (window/level with CT presets, zoom, pan, stack scroll, crosshairs, length), the labelmap
 * editing tools acting on a "Liver" labelmap, the "Segment liver" button, and the header naming
 * the data source. Screenshots: test-artifacts/e2e-mode-toolbar-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { MPR_TOOL_GROUP_ID } from '../../extension/src/id';
import { BRUSH_TOOLS, LIVER_THRESHOLD_HU } from '../../modes/realtime-liver/src/tools';
import { CT_PRESETS, SEGMENT_LIVER_UNAVAILABLE, presetButtonId } from '../../modes/realtime-liver/src/toolbarButtons';
import { launchChromium, saveScreenshot, waitForRenderedViewports, waitForVolumesLoaded } from '../support/browser';
import { ViewerFixture, modeUrl, startViewerFixture } from './viewer-fixture';

jest.setTimeout(240_000);

let fixture: ViewerFixture;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  fixture = await startViewerFixture();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // One page for the suite: each test goes on from the state the one before left.
  await page.goto(modeUrl(fixture, fixture.demo.studyInstanceUid));
  await waitForRenderedViewports(page, 3);
  await waitForVolumesLoaded(page);
});

afterAll(async () => {
  await browser?.close();
  await fixture?.close();
});

/** The MPR tool group as Cornerstone3D sees it: the left-button tool and the crosshairs' mode. */
async function toolState(target: Page): Promise<{ primary: string | undefined; crosshairs: string | undefined }> {
  return target.evaluate((groupId) => {
    type Group = { getActivePrimaryMouseButtonTool: () => string | undefined; getToolOptions: (name: string) => { mode?: string } | undefined };
    const tools = (window as unknown as { cornerstoneTools: { ToolGroupManager: { getToolGroup: (id: string) => Group | undefined } } }).cornerstoneTools;
    const group = tools.ToolGroupManager.getToolGroup(groupId);
    return { primary: group?.getActivePrimaryMouseButtonTool(), crosshairs: group?.getToolOptions('Crosshairs')?.mode };
  }, MPR_TOOL_GROUP_ID);
}

async function crosshairsAnnotations(target: Page): Promise<number> {
  return target.evaluate(() => {
    type State = { getAllAnnotations: () => { metadata?: { toolName?: string } }[] };
    const tools = (window as unknown as { cornerstoneTools: { annotation: { state: State } } }).cornerstoneTools;
    return tools.annotation.state.getAllAnnotations().filter((a) => a.metadata?.toolName === 'Crosshairs').length;
  });
}

/** Window width and centre of each MPR viewport. */
async function viewportVoi(target: Page): Promise<Record<string, { width: number; center: number }>> {
  return target.evaluate(() => {
    type Viewport = { id: string; getProperties: () => { voiRange?: { lower: number; upper: number } } };
    const cs = (window as unknown as { cornerstone: { getRenderingEngines: () => { getViewports: () => Viewport[] }[] } }).cornerstone;
    const result: Record<string, { width: number; center: number }> = {};
    for (const viewport of cs.getRenderingEngines().flatMap((engine) => engine.getViewports())) {
      const range = viewport.getProperties().voiRange;
      if (range) result[viewport.id] = { width: Math.round(range.upper - range.lower), center: Math.round((range.upper + range.lower) / 2) };
    }
    return result;
  });
}

/** Reads `read()` until `ok` holds or the time is up; returns the last value read (for expect). */
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const started = Date.now();
  let value = await read();
  while (!ok(value) && Date.now() - started < timeoutMs) {
    await new Promise((done) => setTimeout(done, 200));
    value = await read();
  }
  return value;
}

const button = (id: string) => page.locator(`[data-cy="${id}"] button`).first();

test('the toolbar shows window/level, zoom, pan, stack scroll, crosshairs, length, the labelmap tools and Segment liver', async () => {
  for (const id of ['WindowLevelTools-split-button-primary', 'Zoom', 'Pan', 'StackScroll', 'Crosshairs', 'Length', 'LabelmapTools-split-button-primary', 'SegmentLiver']) {
    expect({ id, visible: await page.locator(`[data-cy="${id}"]`).first().isVisible() }).toEqual({ id, visible: true });
  }
  expect(await button('SegmentLiver').getAttribute('aria-label')).toMatch(/Segment liver/);
  expect((await toolState(page)).primary).toBe('WindowLevel');
  // Each tool button gives the left mouse button to its tool, in every MPR viewport.
  for (const tool of ['Zoom', 'Pan', 'StackScroll', 'Length', 'WindowLevel']) {
    await button(tool).click();
    expect(await eventually(async () => (await toolState(page)).primary, (v) => v === tool)).toBe(tool);
  }
  await saveScreenshot(page, 'e2e-mode-toolbar');
});

test('a CT preset from the window/level list sets that window and level in all three views', async () => {
  const before = await viewportVoi(page);
  expect(Object.keys(before)).toHaveLength(3);
  for (const preset of [CT_PRESETS.find((p) => p.id === 'ct-lung')!, CT_PRESETS.find((p) => p.id === 'ct-liver')!]) {
    await page.locator('[data-cy="WindowLevelTools-split-button-secondary"] button').first().click();
    const item = page.locator(`[data-cy="${presetButtonId(preset)}"]`).first();
    await item.waitFor({ timeout: 10_000 });
    expect(await item.innerText()).toContain(preset.description);
    await item.click();
    // Cornerstone3D keeps a linear VOI as [center - (width - 1) / 2, center + (width - 1) / 2].
    const expected = [0, 1, 2].map(() => ({ width: preset.window - 1, center: preset.level }));
    expect(await eventually(async () => Object.values(await viewportVoi(page)), (v) => JSON.stringify(v) === JSON.stringify(expected))).toEqual(expected);
    if (preset.id === 'ct-lung') await saveScreenshot(page, 'e2e-mode-toolbar-lung-preset');
  }
  expect(before).not.toEqual(await viewportVoi(page));

  // OHIF's own window/level menu in the active view's corner has the same CT presets.
  await page.locator('[data-cy="windowLevelMenu-btn"]').first().click();
  await page.getByText('Modality Window Presets').first().click();
  await page.getByText('Bone', { exact: false }).first().click();
  const bone = [0, 1, 2].map(() => ({ width: 2500 - 1, center: 480 }));
  expect(await eventually(async () => Object.values(await viewportVoi(page)), (v) => JSON.stringify(v) === JSON.stringify(bone))).toEqual(bone);
  await saveScreenshot(page, 'e2e-mode-toolbar-viewport-menu-bone');
  await page.keyboard.press('Escape');
});

test('crosshairs toggle on and off in the MPR views, window/level staying on the left button', async () => {
  expect((await toolState(page)).crosshairs).toBe('Disabled');
  await button('Crosshairs').click();
  expect(await eventually(async () => (await toolState(page)).crosshairs, (v) => v === 'Active')).toBe('Active');
  expect((await toolState(page)).primary).toBe('WindowLevel');
  // One crosshairs annotation per MPR viewport, drawn as lines over it.
  expect(await eventually(() => crosshairsAnnotations(page), (v) => v === 3)).toBe(3);
  await saveScreenshot(page, 'e2e-mode-toolbar-crosshairs');
  await button('Crosshairs').click();
  expect(await eventually(async () => (await toolState(page)).crosshairs, (v) => v === 'Disabled')).toBe('Disabled');
});

/** The labelmap voxels of the segmentation labelled "Liver": how many are set, and how many of them lie outside an HU range of the CT. */
async function liverLabelmap(target: Page, huRange: [number, number]): Promise<{ count: number; outsideRange: number } | undefined> {
  return target.evaluate((range) => {
    type Voxels = { voxelManager?: { getScalarData: () => ArrayLike<number> }; referencedImageId?: string };
    const win = window as unknown as {
      services: { segmentationService: { getSegmentations: () => { label: string; representationData: { Labelmap?: { imageIds?: string[] } } }[] } };
      cornerstone: { cache: { getImage: (id: string) => Voxels | undefined } };
    };
    const liver = win.services.segmentationService.getSegmentations().find((s) => s.label === 'Liver');
    if (!liver) return undefined;
    let count = 0;
    let outsideRange = 0;
    for (const id of liver.representationData.Labelmap?.imageIds ?? []) {
      const labels = win.cornerstone.cache.getImage(id);
      const ct = labels?.referencedImageId ? win.cornerstone.cache.getImage(labels.referencedImageId) : undefined;
      const mask = labels?.voxelManager?.getScalarData() ?? [];
      const hu = ct?.voxelManager?.getScalarData();
      for (let p = 0; p < mask.length; p++) {
        if (!mask[p]) continue;
        count++;
        if (hu && (hu[p] < range[0] || hu[p] > range[1])) outsideRange++;
      }
    }
    return { count, outsideRange };
  }, huRange);
}

/** An empty "Liver" labelmap on the CT, shown in the three views (what the extension's result looks like). */
async function createLiverLabelmap(target: Page): Promise<void> {
  await target.evaluate(async () => {
    type Service = {
      createLabelmapForDisplaySet: (ds: unknown, options: unknown) => Promise<string>;
      addSegmentationRepresentation: (viewportId: string, options: { segmentationId: string }) => Promise<void>;
      setActiveSegmentation: (viewportId: string, id: string) => void;
    };
    const win = window as unknown as {
      services: { segmentationService: Service; displaySetService: { getActiveDisplaySets: () => { Modality?: string }[] } };
      cornerstone: { getRenderingEngines: () => { getViewports: () => { id: string }[] }[] };
    };
    const ct = win.services.displaySetService.getActiveDisplaySets().find((ds) => ds.Modality === 'CT');
    const id = await win.services.segmentationService.createLabelmapForDisplaySet(ct, {
      label: 'Liver',
      segments: { 1: { label: 'Liver', active: true } },
    });
    for (const viewport of win.cornerstone.getRenderingEngines().flatMap((engine) => engine.getViewports())) {
      await win.services.segmentationService.addSegmentationRepresentation(viewport.id, { segmentationId: id });
    }
  });
}

/** A left-button drag across the middle of the axial view. */
async function strokeAcrossAxial(target: Page, dy = 0): Promise<void> {
  const box = await target.locator('[data-viewport-uid="rt-liver-axial"] canvas, [data-viewportid="rt-liver-axial"] canvas').first().boundingBox();
  if (!box) throw new Error('no axial canvas');
  const [x0, y0] = [box.x + box.width * 0.35, box.y + box.height * 0.5 + dy];
  await target.mouse.move(x0, y0);
  await target.mouse.down();
  for (let step = 1; step <= 10; step++) await target.mouse.move(x0 + (box.width * 0.3 * step) / 10, y0, { steps: 2 });
  await target.mouse.up();
}

test('brush, eraser and threshold brush edit the Liver labelmap; they are off until there is one', async () => {
  expect(await button('Brush').isDisabled()).toBe(true);
  await createLiverLabelmap(page);
  expect(await liverLabelmap(page, LIVER_THRESHOLD_HU)).toEqual({ count: 0, outsideRange: 0 });
  expect(await eventually(() => button('Brush').isDisabled(), (v) => v === false)).toBe(false);

  await button('Brush').click();
  expect(await eventually(async () => (await toolState(page)).primary, (v) => v === BRUSH_TOOLS.brush)).toBe(BRUSH_TOOLS.brush);
  await strokeAcrossAxial(page);
  expect(await eventually(async () => (await liverLabelmap(page, LIVER_THRESHOLD_HU))?.count ?? 0, (v) => v > 200)).toBeGreaterThan(200);
  const painted = (await liverLabelmap(page, LIVER_THRESHOLD_HU))!.count;
  await saveScreenshot(page, 'e2e-mode-toolbar-brush');

  // The eraser is the second entry of the labelmap tools' list.
  await page.locator('[data-cy="LabelmapTools-split-button-secondary"] button').first().click();
  await page.locator('[data-cy="Eraser"]').last().click();
  expect(await eventually(async () => (await toolState(page)).primary, (v) => v === BRUSH_TOOLS.eraser)).toBe(BRUSH_TOOLS.eraser);
  await strokeAcrossAxial(page);
  expect(await eventually(async () => (await liverLabelmap(page, LIVER_THRESHOLD_HU))!.count, (v) => v < painted)).toBeLessThan(painted);
  const { count: erased, outsideRange: outsideBefore } = (await liverLabelmap(page, LIVER_THRESHOLD_HU))!;

  // The threshold brush paints only voxels whose HU lies in the liver range, over a stroke that
  // also crosses tissue outside it.
  await page.locator('[data-cy="LabelmapTools-split-button-secondary"] button').first().click();
  await page.locator('[data-cy="ThresholdBrush"]').last().click();
  expect(await eventually(async () => (await toolState(page)).primary, (v) => v === BRUSH_TOOLS.thresholdBrush)).toBe(BRUSH_TOOLS.thresholdBrush);
  await strokeAcrossAxial(page, 40);
  expect(await eventually(async () => (await liverLabelmap(page, LIVER_THRESHOLD_HU))!.count, (v) => v > erased)).toBeGreaterThan(erased);
  const afterThreshold = (await liverLabelmap(page, LIVER_THRESHOLD_HU))!;
  // What the plain brush left outside the range stays; the threshold brush added none.
  expect(afterThreshold.outsideRange).toBe(outsideBefore);
  await saveScreenshot(page, 'e2e-mode-toolbar-threshold-brush');

  // The plain brush on the same path does paint voxels outside the range: the path crosses tissue
  // the threshold brush left out.
  await page.locator('[data-cy="LabelmapTools-split-button-secondary"] button').first().click();
  await page.locator('[data-cy="Brush"]').last().click();
  expect(await eventually(async () => (await toolState(page)).primary, (v) => v === BRUSH_TOOLS.brush)).toBe(BRUSH_TOOLS.brush);
  await strokeAcrossAxial(page, 40);
  const plain = await eventually(async () => (await liverLabelmap(page, LIVER_THRESHOLD_HU))!, (v) => v.outsideRange > 0);
  expect(plain.outsideRange).toBeGreaterThan(0);
  console.log(
    `labelmap voxels: brush ${painted}, after eraser ${erased}, after threshold brush ${afterThreshold.count} ` +
      `(${afterThreshold.outsideRange} outside ${LIVER_THRESHOLD_HU.join('..')} HU); the plain brush on that path adds ${plain.outsideRange} outside`,
  );
  await button('WindowLevel').click();
});

test('Segment liver runs the extension\'s segmentation when it has the command, and otherwise says why not', async () => {
  const segment = button('SegmentLiver');
  if (await segment.isDisabled()) {
    await page.locator(`[data-cy="SegmentLiver"]`).first().hover();
    await page.getByText(SEGMENT_LIVER_UNAVAILABLE).first().waitFor({ timeout: 10_000 });
    await saveScreenshot(page, 'e2e-mode-toolbar-segment-unavailable');
  } else {
    await segment.click();
    await page.getByTestId('rt-liver-result').waitFor({ timeout: 180_000 });
    await saveScreenshot(page, 'e2e-mode-toolbar-segmented');
  }
  console.log(`Segment liver button: ${(await segment.isDisabled()) ? 'disabled (no segmentLiver command in this build)' : 'ran segmentLiver'}`);
});

test('the header names the data source on screen; leaving the mode (with a labelmap) is clean', async () => {
  const badge = page.getByTestId('rt-liver-data-source');
  expect(await badge.getAttribute('data-source')).toBe('local');
  expect(await badge.innerText()).toContain('rt-liver local studies');
  // Back to the study list: onModeExit destroys tool groups, synchronizers and segmentations.
  await page.locator('[data-cy="return-to-work-list"]').click();
  await page.waitForURL((url) => !url.pathname.startsWith('/realtime-liver'), { timeout: 30_000 });
  // The study list's row (the viewer's panel names the study too, so only after the URL changed).
  await page.getByRole('cell', { name: 'Demo abdominal CT phantom (synthetic)' }).first().waitFor({ timeout: 30_000 });
  expect(await page.getByTestId('rt-liver-data-source').getAttribute('data-source')).toBe('local');
  const left = await page.evaluate(() => {
    const win = window as unknown as { services: { segmentationService: { getSegmentations: () => unknown[] } }; cornerstoneTools: { ToolGroupManager: { getAllToolGroups: () => unknown[] } } };
    return { segmentations: win.services.segmentationService.getSegmentations().length, toolGroups: win.cornerstoneTools.ToolGroupManager.getAllToolGroups().length };
  });
  expect(left).toEqual({ segmentations: 0, toolGroups: 0 });
  expect(pageErrors).toEqual([]);
});
