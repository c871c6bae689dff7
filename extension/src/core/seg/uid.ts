/**
 * A new DICOM UID under the 2.25 root (PS3.5 B.2): a random 128-bit integer in decimal. Needs only
 * Web Crypto's getRandomValues, present in browsers, workers and Node >= 19.
 */
export function newUid(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return `2.25.${value.toString()}`;
}

/** A UID is at most 64 characters of digits and dots, no empty or zero-padded component. */
export function isValidUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= 64 && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(uid);
}
