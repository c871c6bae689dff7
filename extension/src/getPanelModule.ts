/**
 * The panel module: one panel whose React component is a minimal host component (host React,
 * from host/) that gives the plain-DOM panel an element to live in.
 */
import { hostReact } from './host';
import { PANEL_NAME } from './id';
import { mountLiverPanel } from './panels/LiverPanel';
import type { OhifContext } from './panels/studyInfo';

export default function getPanelModule(context: OhifContext) {
  const React = hostReact();
  function RtLiverPanel() {
    const ref = React.useRef<HTMLDivElement | null>(null);
    React.useEffect(() => (ref.current ? mountLiverPanel(ref.current, context) : undefined), []);
    return React.createElement('div', { ref, 'data-testid': 'rt-liver-panel', className: 'h-full overflow-auto' });
  }
  return [
    {
      name: PANEL_NAME,
      iconName: 'tab-segmentation',
      iconLabel: 'Liver',
      label: 'Real-time Liver',
      component: RtLiverPanel,
    },
  ];
}
