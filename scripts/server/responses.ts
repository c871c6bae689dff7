/** Small response helpers shared by the server's routes and the PACS proxy. */
import type { ServerResponse } from 'node:http';
import { DATA_HEADERS, ISOLATION_HEADERS } from './headers';

/** A readable error body: what went wrong, what to do, and a stable code for clients. */
export interface ErrorBody {
  error: string;
  hint?: string;
  code?: string;
}

export function sendBody(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  cacheControl: string,
  headers: Record<string, string> = ISOLATION_HEADERS,
): void {
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': cacheControl });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, extraHeaders: Record<string, string> = {}): void {
  sendBody(res, status, 'application/json; charset=utf-8', JSON.stringify(value), 'no-store', { ...DATA_HEADERS, ...extraHeaders });
}
