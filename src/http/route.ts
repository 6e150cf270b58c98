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
   * without buffering what an unauthenticated client sends. A string body is sent as text, else JSON.
   */
  authorize?(headers: IncomingHttpHeaders): { status: number; body: unknown } | null;
  /**
   * The body itself is the credential (Slack signs it), so `authorize` can only screen the headers:
   * until the handler has it, the body counts against the server's budget for unverified bytes, as
   * the body of a route without `authorize` does. A route whose `authorize` checks a credential in
   * the headers (a bearer token) reads bodies outside that budget.
   */
  signedBody?: boolean;
  handle(req: HttpRequest, res: ServerResponse): Promise<void> | void;
}
