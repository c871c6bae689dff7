/**
 * rt-liver's OHIF extension, loaded by URL as a runtime plugin (see plugins.ts). One factory per
 * extension point, each in its own file.
 */
import getCommandsModule from './getCommandsModule';
import getHangingProtocolModule, { registerHangingProtocolAttributes } from './getHangingProtocolModule';
import getPanelModule from './getPanelModule';
import { checkHost } from './host';
import { EXTENSION_ID } from './id';
import { PACS_STATUS_PATH } from './plugins';
import type { OhifContext } from './panels/studyInfo';
import { stopLiverSegmentation } from './viewer/liver-segmentation';

declare global {
  interface Window {
    /** Host check result, read by the e2e suite. */
    rtLiverHost?: ReturnType<typeof checkHost>;
  }
}

/**
 * How long after start-up the PACS warning is shown: OHIF's notification UI mounts after the extensions
 * register (a notification sent earlier is dropped), and the first render of the study list takes about a
 * second on a 2-core machine; 1.5 s leaves margin without making the warning feel late.
 */
const PACS_WARNING_DELAY_MS = 1500;

/** Tells the user, in the viewer, when the configured PACS is down or rejects our credentials. */
async function reportPacsProblems(servicesManager: OhifContext['servicesManager']): Promise<void> {
  const response = await fetch(PACS_STATUS_PATH, { cache: 'no-cache' });
  const status = (await response.json()) as { configured: boolean; ok: boolean; message: string; hint?: string };
  (window as unknown as { rtLiverPacs?: unknown }).rtLiverPacs = status;
  if (!status.configured || status.ok) return;
  const show = () =>
    servicesManager.services.uiNotificationService?.show({
      title: 'PACS unavailable',
      message: `${status.message} ${status.hint ?? ''}`.trim(),
      type: 'error',
      duration: 60_000,
    });
  setTimeout(show, PACS_WARNING_DELAY_MS);
}

const extension = {
  id: EXTENSION_ID,
  preRegistration({ servicesManager }: Pick<OhifContext, 'servicesManager'>) {
    window.rtLiverHost = checkHost();
    if (!window.rtLiverHost.ok) console.error(window.rtLiverHost.problems.join('\n'));
    registerHangingProtocolAttributes(servicesManager.services.hangingProtocolService);
    void reportPacsProblems(servicesManager).catch((error) => console.warn('rt-liver: PACS status unknown', error));
  },
  /** Leaving the mode cancels a running segmentation and ends its worker. */
  onModeExit({ servicesManager }: Pick<OhifContext, 'servicesManager'>) {
    stopLiverSegmentation(servicesManager);
  },
  getPanelModule,
  getHangingProtocolModule,
  getCommandsModule,
};

export default extension;
