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
  /**
   * Checked from the headers alone, before the body is read: a refusal (e.g. 401) is answered
   * without buffering what an unauthenticated client sends.
   */
  authorize?(headers: IncomingHttpHeaders): { status: number; body: unknown } | null;
  handle(req: HttpRequest, res: ServerResponse): Promise<void> | void;
}
