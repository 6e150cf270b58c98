import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

export interface HttpRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The whole body, already size-checked (empty for GET). */
  rawBody: Buffer;
}

/** One entry of the HTTP server's route table; features contribute their own. */
export interface Route {
  method: 'GET' | 'POST';
  path: string;
  /** POST bodies over this many bytes get 413 before the handler runs (default 256 KiB). */
  maxBodyBytes?: number;
  handle(req: HttpRequest, res: ServerResponse): Promise<void> | void;
}
