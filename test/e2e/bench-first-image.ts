/**
 * Benchmark (not a test): time to first image in the Real-time Liver mode, in headless Chromium
 * on this machine. Each run uses a fresh browser context (empty HTTP cache). Prints medians.
 *
 *   npx tsx test/e2e/bench-first-image.ts [runs=5]
 */
import { launchChromium, waitForRenderedViewports, waitForVolumesLoaded } from '../support/browser';
import { modeUrl, startViewerFixture } from './viewer-fixture';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const fixture = await startViewerFixture();
  const browser = await launchChromium();
  const studies = [{ name: 'demo phantom 256x256x96', uid: fixture.demo.studyInstanceUid }];
  if (fixture.real) studies.push({ name: 'crlm-ct-1004 512x512x41', uid: fixture.real.studyInstanceUid });
  try {
    for (const study of studies) {
      const firstImage: number[] = [];
      const wholeVolume: number[] = [];
      for (let run = 0; run < runs; run++) {
        const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
        const page = await context.newPage();
        const started = Date.now();
        await page.goto(modeUrl(fixture, study.uid));
        await waitForRenderedViewports(page, 3);
        firstImage.push(Date.now() - started);
        await waitForVolumesLoaded(page);
        wholeVolume.push(Date.now() - started);
        await context.close();
      }
      console.log(`${study.name}: first image (3 MPR views drawn) median ${median(firstImage)} ms, whole volume median ${median(wholeVolume)} ms ` +
        `(n=${runs}; runs: ${firstImage.join(', ')} / ${wholeVolume.join(', ')})`);
    }
  } finally {
    await browser.close();
    await fixture.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
