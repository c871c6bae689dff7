/**
 * The commands module: `segmentLiver` (what the mode's toolbar button and the panel's button do),
 * `cancelLiverSegmentation`, `downloadLiverSeg` and `storeLiverSeg`, all on the viewer's one
 * segmentation controller.
 */
import { SEGMENT_LIVER_COMMAND } from './id';
import type { OhifContext } from './panels/studyInfo';
import { liverSegmentation } from './viewer/liver-segmentation';

export const COMMANDS = {
  segmentLiver: SEGMENT_LIVER_COMMAND,
  cancelLiverSegmentation: 'cancelLiverSegmentation',
  downloadLiverSeg: 'downloadLiverSeg',
  storeLiverSeg: 'storeLiverSeg',
} as const;

export default function getCommandsModule(context: OhifContext) {
  const controller = () => liverSegmentation(context);
  const actions = {
    [COMMANDS.segmentLiver]: () => controller().segment(),
    [COMMANDS.cancelLiverSegmentation]: () => controller().cancel(),
    [COMMANDS.downloadLiverSeg]: () => controller().downloadSeg(),
    [COMMANDS.storeLiverSeg]: () => controller().storeSeg(),
  };
  const definitions = Object.fromEntries(Object.keys(actions).map((name) => [name, { commandFn: actions[name as keyof typeof actions] }]));
  return { actions, definitions, defaultContext: 'VIEWER' };
}
