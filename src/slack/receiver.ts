import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { screenSlackHeaders, verifySlackSignature, type VerifyFailure } from './verify.ts';
import type { ReplayGuard } from './replay-guard.ts';
import { describeError } from '../core/errors.ts';
import { sendBody, sendJson, sendText } from '../http/respond.ts';
import type { Route } from '../http/route.ts';

export interface SlackHttpRequest {
  headers: IncomingMessage['headers'];
  rawBody: Buffer;
}

/** Where Slack sends slash commands, interactions and events in HTTP mode. */
export const SLACK_EVENTS_PATH = '/slack/events';

/**
 * The headers are screened before the body is read (signature and a timestamp within 5 minutes
 * present), and the body, which only the signature can vouch for, counts against the server's
 * budget for unverified bytes until it is verified.
 */
export function slackEventsRoute(receiver: EmbeddedHttpReceiver): Route {
  return {
    method: 'POST',
    path: SLACK_EVENTS_PATH,
    signedBody: true,
    authorize: (headers) => receiver.screen(headers),
    handle: (req, res) => receiver.handle(req, res),
  };
}

export interface ReceiverLog {
  rejected(reason: VerifyFailure | 'bad_body' | 'unknown_payload'): void;
  failed(message: string): void;
}

/** How the receiver answers a request it refuses: text, as Slack and Bolt do. */
const INVALID_SIGNATURE = 'invalid request signature';

/** Bolt answers 404 once 3 s pass without an ack; Slack has given up by then anyway. */
const ACK_DEADLINE_MS = 3001;

/**
 * A Bolt receiver that lives inside Vigil's one HTTP server instead of opening its own. It does
 * what Bolt's HTTPReceiver does, plus what it lacks: future timestamps are refused, and the HTTP
 * server has already refused oversized bodies (413) before the request gets here.
 */
export class EmbeddedHttpReceiver implements Receiver {
  private app: App | undefined;

  constructor(
    private readonly signingSecret: string,
    private readonly log: ReceiverLog,
    private readonly now: () => number = Date.now,
    /** Remembers signatures already run; none: every genuine request runs (tests of the receiver alone). */
    private readonly replayGuard: ReplayGuard | null = null,
  ) {}

  init(app: App): void {
    this.app = app;
  }

  // The HTTP server owns the socket; Bolt's start/stop have nothing to do.
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** The headers alone, before the body is read: a request that cannot be genuine costs no buffering. */
  screen(headers: IncomingMessage['headers']): { status: number; body: string } | null {
    const failure = screenSlackHeaders(first(headers['x-slack-signature']), first(headers['x-slack-request-timestamp']), this.now());
    if (!failure) return null;
    this.log.rejected(failure);
    return { status: 401, body: INVALID_SIGNATURE };
  }

  async handle(req: SlackHttpRequest, res: ServerResponse): Promise<void> {
    const header = (name: string) => first(req.headers[name]);
    const failure = verifySlackSignature({
      signingSecret: this.signingSecret,
      signature: header('x-slack-signature'),
      timestamp: header('x-slack-request-timestamp'),
      rawBody: req.rawBody,
      nowMs: this.now(),
    });
    if (failure) {
      this.log.rejected(failure);
      return sendText(res, 401, INVALID_SIGNATURE);
    }
    // Genuine, but perhaps sent before: a replay is answered like an ack and runs nothing.
    const signature = header('x-slack-signature') as string;
    if (this.replayGuard && !(await this.replayGuard.firstSeen(signature, Number(header('x-slack-request-timestamp'))))) {
      return sendText(res, 200, '');
    }
    const body = parseBody(header('content-type') ?? '', req.rawBody.toString('utf8'));
    if (!body) {
      this.log.rejected('bad_body');
      return sendText(res, 400, 'unreadable body');
    }
    if (body.ssl_check) return sendText(res, 200, '');
    if (body.type === 'url_verification' && typeof body.challenge === 'string') {
      return sendJson(res, 200, { challenge: body.challenge });
    }
    // Bolt would ignore a payload it cannot type and leave the request hanging until the deadline.
    if (!isBoltPayload(body)) {
      this.log.rejected('unknown_payload');
      return sendText(res, 400, 'unrecognised payload');
    }
    await this.dispatch(body, header, res);
  }

  private async dispatch(body: Record<string, unknown>, header: (n: string) => string | undefined, res: ServerResponse) {
    if (!this.app) throw new Error('EmbeddedHttpReceiver used before Bolt called init()');
    let acked = false;
    const deadline = setTimeout(() => {
      if (!acked) {
        acked = true;
        this.log.failed('no ack within 3 s');
        sendText(res, 404, '');
      }
    }, ACK_DEADLINE_MS);
    deadline.unref();
    const retryNum = Number(header('x-slack-retry-num'));
    const event: ReceiverEvent = {
      body,
      ...(Number.isInteger(retryNum) ? { retryNum } : {}),
      ...(header('x-slack-retry-reason') ? { retryReason: header('x-slack-retry-reason') } : {}),
      ack: async (response?: unknown) => {
        if (acked) return;
        acked = true;
        clearTimeout(deadline);
        if (response === undefined || response === '') sendText(res, 200, '');
        else if (typeof response === 'string') sendText(res, 200, response);
        else if (typeof response === 'object' && response !== null && Object.isFrozen(response)) sendBody(res, 200, 'application/json', frozenJson(response));
        else sendJson(res, 200, response);
      },
    };
    try {
      await this.app.processEvent(event);
    } catch (err) {
      this.log.failed(describeError(err));
      if (!acked) {
        acked = true;
        clearTimeout(deadline);
        sendText(res, 500, '');
      }
      return;
    }
    // Bolt awaits its listeners: still un-acked now means none took it (a shortcut, an options
    // request, a payload kind nothing registered). An empty 200 at once, rather than 404 in 3 s.
    if (!acked) {
      acked = true;
      clearTimeout(deadline);
      sendText(res, 200, '');
    }
  }
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** The JSON of frozen ack bodies (a rendering handed to many, see `renderMessage`): serialised once. */
const jsonOfFrozen = new WeakMap<object, string>();

function frozenJson(body: object): string {
  let json = jsonOfFrozen.get(body);
  if (json === undefined) {
    json = JSON.stringify(body);
    jsonOfFrozen.set(body, json);
  }
  return json;
}

/** The payload kinds Bolt can route (its getTypeAndConversation): anything else reaches no listener. */
function isBoltPayload(body: Record<string, unknown>): boolean {
  if (body.event !== undefined || body.command !== undefined || body.actions !== undefined || body.name !== undefined) return true;
  return typeof body.type === 'string' && ['dialog_submission', 'block_suggestion', 'shortcut', 'message_action', 'view_submission', 'view_closed'].includes(body.type);
}

/** Slash commands and interactions arrive form-encoded (interactions as JSON in `payload`); events as JSON. */
function parseBody(contentType: string, raw: string): Record<string, unknown> | null {
  try {
    if (contentType.startsWith('application/json')) {
      const parsed: unknown = JSON.parse(raw);
      return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
    }
    const form = Object.fromEntries(new URLSearchParams(raw));
    if (typeof form.payload === 'string') return parseBody('application/json', form.payload);
    return form;
  } catch {
    return null; // malformed JSON: the caller answers 400
  }
}
