/** Splits a multipart/related body (WADO-RS answer) into its parts' bodies. */
export function multipartParts(body: Uint8Array, contentType: string): Uint8Array[] {
  const match = /boundary="?([^";]+)"?/i.exec(contentType);
  if (!match) throw new Error(`No boundary in content type "${contentType}"`);
  const delimiter = Buffer.from(`--${match[1]}`);
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const parts: Uint8Array[] = [];
  let start = buffer.indexOf(delimiter);
  while (start !== -1) {
    const next = buffer.indexOf(delimiter, start + delimiter.length);
    if (next === -1) break;
    const part = buffer.subarray(start + delimiter.length, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    // The part body ends before the CRLF that precedes the next delimiter.
    if (headerEnd !== -1) parts.push(part.subarray(headerEnd + 4, part.length - 2));
    start = next;
  }
  return parts;
}
