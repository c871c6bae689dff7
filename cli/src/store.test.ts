/**
 * --store's configuration is read as the viewer's server reads it, and the SEG's UIDs follow from its
 * content: the same result, the same instance.
 */
import { isValidUid } from '../../extension/src/core/seg/uid';
import { pacsFromEnvironment, uidFromContent } from './store';

test('RT_LIVER_PACS_URL and its companions, as the server reads them', () => {
  const pacs = pacsFromEnvironment({ RT_LIVER_PACS_URL: 'http://127.0.0.1:8042/', RT_LIVER_PACS_USER: 'me', RT_LIVER_PACS_PASSWORD: 'secret' });
  expect(pacs).toEqual({ url: 'http://127.0.0.1:8042', dicomWebUrl: 'http://127.0.0.1:8042/dicom-web', authorization: `Basic ${Buffer.from('me:secret').toString('base64')}` });
  expect(pacsFromEnvironment({ RT_LIVER_PACS_URL: 'https://pacs.example.org/pacs', RT_LIVER_PACS_DICOMWEB_PATH: '/wado/' }).dicomWebUrl).toBe('https://pacs.example.org/pacs/wado');
  expect(pacsFromEnvironment({ RT_LIVER_PACS_URL: 'http://127.0.0.1:8042' }).authorization).toBeUndefined();
});

test.each([
  [{}, /RT_LIVER_PACS_URL, which is not set/],
  [{ RT_LIVER_PACS_URL: 'not a url' }, /is not a URL/],
  [{ RT_LIVER_PACS_URL: 'ftp://pacs' }, /must be http:\/\/ or https:\/\/, not ftp:/],
  [{ RT_LIVER_PACS_URL: 'http://me:secret@pacs' }, /holds a user name or password/],
])('a PACS configuration that cannot work is refused before any work: %j', (env, message) => {
  expect(() => pacsFromEnvironment(env)).toThrow(message);
});

test('content UIDs: valid DICOM UIDs, equal for equal content, different otherwise', () => {
  const mask = new Uint8Array([0, 1, 1, 0]);
  const a = uidFromContent('instance', '1.2.3', 'sha', mask);
  expect(isValidUid(a)).toBe(true);
  expect(a.startsWith('2.25.')).toBe(true);
  expect(uidFromContent('instance', '1.2.3', 'sha', new Uint8Array([0, 1, 1, 0]))).toBe(a);
  expect(uidFromContent('instance', '1.2.3', 'sha', new Uint8Array([0, 1, 0, 0]))).not.toBe(a);
  expect(uidFromContent('instance', '1.2.3', 'sha2', mask)).not.toBe(a);
  // Parts are separated: ('ab', 'c') is not ('a', 'bc').
  expect(uidFromContent('ab', 'c')).not.toBe(uidFromContent('a', 'bc'));
});
