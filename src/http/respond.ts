import type { ServerResponse } from 'node:http';

/** The one way Vigil answers over HTTP; a response already sent (a late ack) is left alone. */
export function sendBody(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendBody(res, status, 'application/json', JSON.stringify(body), headers);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  sendBody(res, status, 'text/plain', text);
}
