/**
 * The proxy's route check on its own (no sockets): the DICOMweb routes a viewer uses pass with
 * their methods; Orthanc's REST API, absolute URLs and every encoded way around the check are
 * refused; and whatever passes builds an upstream URL on the configured PACS only.
 */
import { PROXY_DICOMWEB_ROOT, isRefusal, routePacsRequest } from './dicomweb-routes';
import { resolvePacs, upstreamUrl } from './pacs-proxy';
import { proxyFuzzTargets } from '../../test/support/proxy-fuzz';

const STUDY = '1.2.826.0.1.3680043.8.498.1';
const SERIES = '1.2.826.0.1.3680043.8.498.2';
const SOP = '1.2.826.0.1.3680043.8.498.3';
const ROOT = PROXY_DICOMWEB_ROOT;
const pacs = resolvePacs({ url: 'http://127.0.0.1:8042', username: 'u', password: 'p' });

function allowedMethods(target: string): string[] | number {
  const route = routePacsRequest(target, 'GET');
  if (isRefusal(route)) return route.status === 405 ? (route.allow ?? '').split(', ') : route.status;
  return route.allowed;
}

describe('DICOMweb routes', () => {
  test.each([
    [`${ROOT}/studies`, ['GET', 'HEAD', 'POST']],
    [`${ROOT}/studies?PatientName=Doe*&includefield=00081030%2C00080060&limit=25&offset=0`, ['GET', 'HEAD', 'POST']],
    [`${ROOT}/series?Modality=SEG`, ['GET', 'HEAD']],
    [`${ROOT}/instances`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}`, ['GET', 'HEAD', 'POST']],
    [`${ROOT}/studies/${STUDY}/metadata`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}/series`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}/instances`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}/thumbnail`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}/series/${SERIES}`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}/series/${SERIES}/metadata`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}/series/${SERIES}/rendered`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}/series/${SERIES}/instances`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}/series/${SERIES}/instances/${SOP}`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}/series/${SERIES}/instances/${SOP}/metadata`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}/series/${SERIES}/instances/${SOP}/frames/1`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}/series/${SERIES}/instances/${SOP}/frames/1,2,3`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}/series/${SERIES}/instances/${SOP}/frames/2/rendered`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}/series/${SERIES}/instances/${SOP}/bulk/7fe00010`, ['GET', 'HEAD']],
    [`${ROOT}/studies/${STUDY}/series/${SERIES}/instances/${SOP}/bulk/00540016/0/00181072`, ['GET', 'HEAD']],
  ])('%s answers %j', (target, methods) => {
    expect(allowedMethods(target)).toEqual(methods);
  });

  test('POST stores only to /studies and /studies/{uid}; other methods are 405 with Allow', () => {
    expect(isRefusal(routePacsRequest(`${ROOT}/studies`, 'POST'))).toBe(false);
    expect(isRefusal(routePacsRequest(`${ROOT}/studies/${STUDY}`, 'POST'))).toBe(false);
    for (const [target, method] of [
      [`${ROOT}/studies/${STUDY}/series`, 'POST'],
      [`${ROOT}/studies/${STUDY}/series/${SERIES}/instances/${SOP}`, 'POST'],
      [`${ROOT}/studies`, 'DELETE'],
      [`${ROOT}/studies/${STUDY}`, 'DELETE'],
      [`${ROOT}/studies`, 'PUT'],
      [`${ROOT}/studies`, 'PATCH'],
      [`${ROOT}/studies`, 'OPTIONS'],
      [`${ROOT}/studies`, 'TRACE'],
      [`${ROOT}/studies`, 'CONNECT'],
    ]) {
      const route = routePacsRequest(target, method);
      expect([target, method, isRefusal(route) && route.status]).toEqual([target, method, 405]);
      expect(isRefusal(route) && route.allow).toMatch(/^GET, HEAD/);
    }
    expect(routePacsRequest(`${ROOT}/studies?x=1`, 'POST')).toMatchObject({ status: 400, code: 'BAD_QUERY' });
  });

  test.each([
    '/orthanc',
    '/orthanc/',
    '/orthanc/system',
    '/orthanc/tools/shutdown',
    '/orthanc/tools/find',
    '/orthanc/tools/log-level',
    '/orthanc/tools/create-dicom',
    '/orthanc/patients',
    '/orthanc/instances',
    '/orthanc/app/explorer.html',
    '/orthanc/wado?requestType=WADO',
    `${ROOT}`,
    `${ROOT}/`,
    `${ROOT}/servers`,
    `${ROOT}/servers/other/stow`,
    `${ROOT}/info`,
    `${ROOT}/studies/${STUDY}/series/${SERIES}/instances/${SOP}/frames/0`,
    `${ROOT}/studies/${STUDY}/series/${SERIES}/instances/${SOP}/frames/1/../../../../../../system`,
    `${ROOT}/studies/not-a-uid`,
    `${ROOT}/studies/${'1.'.repeat(40)}1`,
    `${ROOT}/studies/${STUDY}/series/${SERIES}/instances/${SOP}/bulk/${'00000000/'.repeat(9)}00000000`,
  ])('Orthanc REST API and non-DICOMweb paths are refused: %s', (target) => {
    for (const method of ['GET', 'POST', 'DELETE', 'PUT']) {
      const route = routePacsRequest(target, method);
      expect(isRefusal(route) && [400, 404].includes(route.status)).toBe(true);
    }
  });

  test('QIDO keys are keywords or tags; a query is capped in length', () => {
    expect(routePacsRequest(`${ROOT}/studies?00100010=Doe&0040A730.0040A160=x&fuzzymatching=false`, 'GET')).toMatchObject({ segments: ['studies'] });
    expect(routePacsRequest(`${ROOT}/studies?a%2Fb=1`, 'GET')).toMatchObject({ status: 400, code: 'BAD_QUERY' });
    expect(routePacsRequest(`${ROOT}/studies?PatientName=${'x'.repeat(9000)}`, 'GET')).toMatchObject({ status: 400, code: 'TARGET_TOO_LONG' });
  });
});

describe('fuzz: encoded ways around the route check', () => {
  const targets = proxyFuzzTargets();

  test(`all ${targets.length} variants are refused with 400 or 404, for every method`, () => {
    expect(targets.length).toBeGreaterThan(3000);
    const passed: string[] = [];
    for (const target of targets) {
      for (const method of ['GET', 'HEAD', 'POST', 'DELETE']) {
        const route = routePacsRequest(target, method);
        if (!isRefusal(route) || ![400, 404].includes(route.status)) passed.push(`${method} ${target}`);
      }
    }
    expect(passed).toEqual([]);
  });

  test('whatever passes goes to the configured PACS, below its DICOMweb root, with a plain path', () => {
    // Random targets from the characters that matter; the ones that pass must be harmless.
    const alphabet = ['/', '.', '..', '%2F', '%2E', '\\', ':', '@', 'studies', 'series', 'instances', 'frames', 'metadata', '1', '1.2', ',', '?', '&', '=', '#', 'http', '127.0.0.1', ';'];
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const parts = Array.from({ length: 1 + Math.floor(random() * 10) }, () => alphabet[Math.floor(random() * alphabet.length)]);
      const target = `${ROOT}/${parts.join('')}`;
      const route = routePacsRequest(target, 'GET');
      if (isRefusal(route)) continue;
      accepted++;
      const url = upstreamUrl(pacs, route);
      expect(url.origin).toBe('http://127.0.0.1:8042');
      expect(url.pathname).toBe(`/dicom-web/${route.segments.join('/')}`);
      expect(route.segments.every((segment) => /^[A-Za-z0-9.,-]+$/.test(segment) && segment !== '..' && segment !== '.')).toBe(true);
    }
    // The generator does hit real routes (studies, studies/1.2/series, ...), so the check above ran.
    expect(accepted).toBeGreaterThan(100);
  });

  test('the PACS URL itself is checked: no credentials in it, http(s) only, a plain path', () => {
    expect(() => resolvePacs({ url: 'http://u:p@127.0.0.1:8042' })).toThrow(/user name or password/);
    expect(() => resolvePacs({ url: 'file:///etc/passwd' })).toThrow(/http:\/\/ or https:\/\//);
    expect(() => resolvePacs({ url: 'http://127.0.0.1:8042/?x=1' })).toThrow(/query/);
    expect(() => resolvePacs({ url: 'http://127.0.0.1:8042', dicomWebPath: '/a/../b' })).toThrow(/segments/);
    expect(() => resolvePacs({ url: 'http://127.0.0.1:8042', dicomWebPath: '/a%2Fb' })).toThrow(/characters/);
    expect(resolvePacs({ url: 'https://pacs.example/base/', dicomWebPath: '/rs' }).dicomWebRoot).toBe('https://pacs.example/base/rs');
  });
});
