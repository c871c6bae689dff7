/**
 * Request targets that try to get around the PACS proxy's route check: other hosts (absolute URLs,
 * "//host", "\\host"), Orthanc's REST API behind the DICOMweb root ("..", "/system"), spelled with every
 * encoding a decoder, a URL parser or a PACS might undo (%2F, %252F, %5C, %2E, UTF-8 overlongs,
 * full-width forms, %u escapes), behind each proxy prefix and with smuggled suffixes. Used by
 * scripts/server/dicomweb-routes.test.ts (all of them) and pacs-proxy.test.ts (over HTTP).
 */
import { PROXY_DICOMWEB_ROOT } from '../../scripts/server/dicomweb-routes';

const ROOT = PROXY_DICOMWEB_ROOT;
const STUDY = '1.2.826.0.1.3680043.8.498.1';

/** Ways to write "/", "\", "." and ":" that a decoder, a URL parser or a PACS might turn back into them. */
const SPELLINGS: Record<string, string[]> = {
  '/': ['/', '%2F', '%2f', '%252F', '%25252F', '%C0%AF', '%E0%80%AF', '%EF%BC%8F', '%u002F', '\\'],
  '\\': ['\\', '%5C', '%5c', '%255C', '%C1%9C', '%EF%BC%BC'],
  '.': ['.', '%2E', '%2e', '%252E', '%C0%AE', '%EF%BC%8E'],
  ':': [':', '%3A', '%3a', '%253A'],
};

function spell(text: string, variant: number): string {
  return [...text].map((char, index) => {
    const options = SPELLINGS[char];
    return options ? options[(variant + index) % options.length] : char;
  }).join('');
}

/** Attacks on the proxy: another host, Orthanc's REST API behind the DICOMweb root, or a parser gap. */
const PAYLOADS = [
  'http://127.0.0.1:3250/x',
  'https://127.0.0.1:3250/x',
  '//127.0.0.1:3250/x',
  '\\\\127.0.0.1:3250\\x',
  '../../system',
  '../tools/shutdown',
  './../../patients',
  '..',
  '.',
  'studies/../../../tools/shutdown',
  'studies/%2e%2e/%2e%2e/system',
];
const PREFIXES = ['/orthanc/', `${ROOT}/`, `${ROOT}/studies/`, `${ROOT}/studies/${STUDY}/series/`, '/orthanc', `${ROOT}`];
const SUFFIXES = ['', '?x=1', '#frag', ';a=b', '%00', '%0d%0aX-Injected:1', '/studies'];

export function proxyFuzzTargets(): string[] {
  const targets = new Set<string>();
  for (const prefix of PREFIXES) {
    for (const payload of PAYLOADS) {
      for (let variant = 0; variant < 10; variant++) {
        for (const suffix of SUFFIXES) targets.add(`${prefix}${spell(payload, variant)}${suffix}`);
      }
    }
  }
  // Encoded slashes inside otherwise valid routes, and UIDs with smuggled characters.
  for (const sep of ['%2F', '%2f', '%252F', '\\', '%5C', '//', '/./', '/../', ';/', '@', '%40']) {
    targets.add(`${ROOT}/studies${sep}${STUDY}`);
    targets.add(`${ROOT}/studies/${STUDY}${sep}series`);
    targets.add(`/orthanc${sep}dicom-web/studies`);
    targets.add(`${ROOT}${sep}studies`);
  }
  return [...targets];
}

