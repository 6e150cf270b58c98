/**
 * A local stand-in for the Slack Web API and for response_url endpoints.
 *
 * End-to-end tests and benchmarks point the real WebClient at this server
 * (`slackApiUrl: server.url + '/api/'`) so the bot's HTTP behaviour, its
 * Block Kit output and its handling of rate limits are exercised without
 * network access. It deliberately enforces the limits Slack documents,
 * because a renderer that only ever talks to a lenient fake ships messages
 * that the real Slack rejects. Tests can inject faults (429 with Retry-After,
 * 5xx, Slack errors, dropped connections) and read the `violations`: every
 * request the real Slack would have punished.
 *
 * It also keeps what each channel currently SHOWS: every accepted
 * chat.postMessage is stored (replies with their `thread_ts`), chat.update
 * edits the stored message in place and keeps its history, so tests can assert
 * "every alert is shown once, and resolving edited the original message"
 * through `messages()`, `topLevel()`, `replies()` and `blockText()`.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createSlackConversations, type SlackConversations } from './slack-conversations.ts';

export interface RecordedCall {
  method: string;
  body: Record<string, unknown>;
  token?: string;
  /** HTTP status answered; 0 when a `reset` fault dropped the connection. */
  status: number;
  /** What the stand-in answered (the JSON body), so tests can see the ts it handed out. */
  response: Record<string, unknown>;
  at: number;
}

/**
 * A fault the stand-in answers with instead of doing the work. It applies to requests matching
 * `method`/`channel` (all when omitted), from now for `forMs`, or for the next `count` matching
 * requests, or (neither given) until `reset()`. The first matching fault wins.
 */
export interface Fault {
  /** HTTP status to answer with, e.g. 429 or 500 (default 200 when `error` is set). */
  status?: number;
  /** Seconds announced in `Retry-After` (429 only; default 1). */
  retryAfter?: number;
  /** A Slack error (`{ ok: false, error }`, HTTP 200 unless `status` says otherwise). */
  error?: string;
  /** Drop the connection without answering: a network error for the client. */
  reset?: boolean;
  /** Do what was asked (post, update), then drop the connection: Slack's answer lost on the way back. */
  lostAnswer?: boolean;
  /** Do what was asked, then never answer (until close): the sender waits, as one killed meanwhile would. */
  acceptedThenHang?: boolean;
  forMs?: number;
  count?: number;
  method?: string;
  channel?: string;
}

/**
 * A request Slack would have punished: sent to a channel whose announced Retry-After had not
 * expired, a chat.postMessage beyond the channel's token bucket, or (with `updatesPerMinute`) a
 * chat.update beyond the workspace's allowance for that method.
 */
export interface Violation {
  kind: 'retry_after' | 'rate_limit';
  method: string;
  /**
   * The channel, or the method name for calls without one. chat.update's own limit is per
   * workspace, not per channel, so its `rate_limit` (and the Retry-After it announced) has scope
   * `'chat.update'`.
   */
  scope: string;
  at: number;
}

/** One version of a stored message: as posted, or as a chat.update left it. */
export interface MessageVersion {
  text: string;
  blocks: unknown[];
  at: number;
}

/**
 * A message as the channel shows it now. The objects are live: a later chat.update changes
 * `text`, `blocks`, `updates` and `history` of the very object a test already holds.
 */
export interface StoredMessage {
  channel: string;
  ts: string;
  /** The top-level `text` ('' when only blocks were sent). */
  text: string;
  /** Block Kit blocks ([] when none were sent). */
  blocks: unknown[];
  /** The parent's ts, for a reply posted with `thread_ts`. */
  threadTs?: string;
  postedAt: number;
  /** How many chat.update calls changed it. */
  updates: number;
  /** Every version shown, oldest first: `history[0]` as posted, the last one as shown now. */
  history: MessageVersion[];
  /** Message metadata as posted (`event_type`, `event_payload`), if any. */
  metadata?: unknown;
}

export interface RecordedResponse {
  path: string;
  body: Record<string, unknown>;
  /** 200 when accepted; rejected posts are recorded too so tests can see them. */
  status: number;
  at: number;
}

/** What a response_url fault is asked about each post it could apply to. */
export interface ResponseUrlPost {
  /** The id given to `responseUrl(id)` (the decoded last path segment). */
  id: string;
  /** 0-based number of this post among all response_url posts since start or `reset()`. */
  seq: number;
  /** 1-based number of this post among the posts to this same response_url. */
  attempt: number;
}

/**
 * A fault for response_url posts (not Web API calls: see `Fault`). Exactly one of `status`, `hang`
 * or `redirect` says what happens; `id`, `count` and `when` which posts it hits (every post until
 * `reset()` when none is given). The first matching fault wins; faulted posts are recorded in
 * `responses` with the status answered (0 for a hang).
 */
export interface ResponseUrlFault {
  /** Answer this status, e.g. 500, 503 or 429. */
  status?: number;
  /** Seconds announced in `Retry-After` (with status 429; omitted when undefined). */
  retryAfter?: number;
  /** Never answer: the request stays open until `reset()` or `close()`. */
  hang?: boolean;
  /** Answer a redirect (302, 307 …) with `Location: to` (a path on this server or any URL). */
  redirect?: { status: number; to: string };
  /** Only posts to `responseUrl(id)`. */
  id?: string;
  /** Only the next `count` matching posts. */
  count?: number;
  /** Only posts for which this says true (deterministic patterns, e.g. "3 of every 10"). */
  when?: (post: ResponseUrlPost) => boolean;
}

/** A modal Vigil opened (views.open), with the trigger it used. */
export interface OpenedView {
  triggerId: string;
  view: Record<string, unknown>;
}

export interface SlackApiServerOptions {
  /** chat.postMessage allowance per channel per second (Slack: about 1). */
  perChannelPerSecond?: number;
  /** Token-bucket capacity: how many messages may go out back to back. */
  burst?: number;
  /** Clock in ms; inject a fake one to make rate-limit tests deterministic. */
  now?: () => number;
  /** WebSocket URL handed out by `apps.connections.open` (Socket Mode tests). */
  socketUrl?: string;
  /** Members of user groups (S… → U…[]) for usergroups.users.list; change them with setUserGroup(). */
  userGroups?: Record<string, string[]>;
  /**
   * chat.update allowance per minute for the whole workspace (Slack: Tier 3, about 50+).
   * Undefined (the default): unlimited. Beyond it the stand-in answers 429 with Retry-After
   * and records a `rate_limit` violation with scope `'chat.update'`.
   */
  updatesPerMinute?: number;
  /** How many chat.update calls may go out back to back (default: a minute's worth, `updatesPerMinute`). */
  updateBurst?: number;
}

export interface SlackApiServer {
  url: string;
  calls: RecordedCall[];
  responses: RecordedResponse[];
  violations: Violation[];
  /** Answer matching requests with a fault (429 with Retry-After, 5xx, a Slack error, a reset). */
  inject(fault: Fault): void;
  /** Answer matching response_url posts with a fault (5xx, 429 with Retry-After, a hang, a redirect). */
  injectResponseUrl(fault: ResponseUrlFault): void;
  /** Modals opened with views.open, in order. */
  openedViews: OpenedView[];
  /** Set a user group's members (usergroups.users.list answers them from now on). */
  setUserGroup(id: string, members: string[]): void;
  /** Channels made with conversations.create (and by tests), their members, topics and purposes. */
  conversations: SlackConversations;
  responseUrl(id?: string): string;
  waitFor(pred: () => boolean, timeoutMs?: number): Promise<void>;
  /** Stored messages (top-level and replies) in post order, of one channel or of all. */
  messages(channel?: string): StoredMessage[];
  /** The channel's top-level messages (no `thread_ts`) in post order. */
  topLevel(channel: string): StoredMessage[];
  /** The replies posted in the thread of `threadTs`, in post order. */
  replies(channel: string, threadTs: string): StoredMessage[];
  /** The current `text` of every message in the channel (top-level and replies), in post order. */
  messageTexts(channel: string): string[];
  /** Forgets calls, responses, violations, faults (response_url ones too, ending hung posts), rate-limit state and stored messages. */
  reset(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_POSTS_PER_RESPONSE_URL = 5;
const MAX_ID_LENGTH = 255;
// WebClient form-encodes nested values as JSON strings; these are the ones we inspect.
const JSON_FIELDS = ['blocks', 'attachments', 'metadata', 'view'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const textOf = (v: unknown): string | undefined => (isObj(v) && typeof v.text === 'string' ? v.text : undefined);
const tooLong = (v: unknown, max: number): boolean => typeof v === 'string' && v.length > max;

/** Text of the inline elements of a rich_text block (sections, lists, quotes, preformatted). */
function richText(el: unknown, out: string[]): void {
  if (!isObj(el)) return;
  if ((el.type === 'text' || el.type === 'link') && typeof el.text === 'string') out.push(el.text);
  if (Array.isArray(el.elements)) for (const child of el.elements) richText(child, out);
}

/**
 * Everything a person reads in `blocks`, in order, one piece a line: header and section text,
 * section fields, context text elements, button labels (in actions blocks and as section
 * accessories), rich_text, markdown blocks and image titles. Hidden text (confirm dialogs,
 * placeholders, option lists, button values) is left out, so a match means the channel shows it.
 * Anything that is not an array gives ''.
 */
export function blockText(blocks: unknown): string {
  if (!Array.isArray(blocks)) return '';
  const out: string[] = [];
  const push = (v: unknown): void => {
    const t = textOf(v);
    if (t !== undefined && t !== '') out.push(t);
  };
  const button = (el: unknown): void => {
    if (isObj(el) && el.type === 'button') push(el.text);
  };
  for (const block of blocks) {
    if (!isObj(block)) continue;
    switch (block.type) {
      case 'header':
        push(block.text);
        break;
      case 'section':
        push(block.text);
        if (Array.isArray(block.fields)) block.fields.forEach(push);
        button(block.accessory);
        break;
      case 'context':
        if (Array.isArray(block.elements)) block.elements.forEach(push); // images have no `text`
        break;
      case 'actions':
        if (Array.isArray(block.elements)) block.elements.forEach(button);
        break;
      case 'rich_text':
        richText(block, out);
        break;
      case 'markdown':
        if (typeof block.text === 'string') out.push(block.text);
        break;
      case 'image':
        push(block.title);
        break;
    }
  }
  return out.join('\n');
}

/** Checks an interactive element (button, select, …) wherever it appears. */
function validateElement(el: unknown, where: string, problems: string[]): void {
  if (!isObj(el)) return;
  if (tooLong(el.action_id, MAX_ID_LENGTH)) problems.push(`${where}: action_id longer than ${MAX_ID_LENGTH}`);
  if (el.type === 'button' && tooLong(el.value, 2000)) problems.push(`${where}: button value longer than 2000`);
  if (el.type === 'static_select') {
    const options = Array.isArray(el.options) ? el.options : [];
    if (options.length === 0 || options.length > 100) problems.push(`${where}: ${options.length} options (1 to 100)`);
    options.forEach((o: unknown, j) => {
      if (!isObj(o)) return void problems.push(`${where}.options[${j}]: not an object`);
      const text = textOf(o.text);
      if (text === undefined || text.length === 0 || text.length > 75) problems.push(`${where}.options[${j}]: text must be 1 to 75 characters`);
      if (typeof o.value !== 'string' || o.value.length === 0 || o.value.length > 150) problems.push(`${where}.options[${j}]: value must be 1 to 150 characters`);
    });
    // Slack: initial_option must be exactly one of the options.
    if (el.initial_option !== undefined && !options.some((o: unknown) => JSON.stringify(o) === JSON.stringify(el.initial_option))) {
      problems.push(`${where}: initial_option is not one of the options`);
    }
  }
}

/**
 * Returns the Block Kit limit violations in `blocks` (empty when valid).
 * Only the limits our renderer can plausibly hit are checked; see
 * https://api.slack.com/reference/block-kit/blocks for the full list.
 */
export function validateBlocks(blocks: unknown): string[] {
  if (!Array.isArray(blocks)) return ['blocks must be an array'];
  const problems: string[] = [];
  if (blocks.length > 50) problems.push(`too many blocks: ${blocks.length} > 50`);
  blocks.forEach((block: unknown, i) => {
    const where = `blocks[${i}]`;
    if (!isObj(block)) return void problems.push(`${where}: not an object`);
    if (tooLong(block.block_id, MAX_ID_LENGTH)) problems.push(`${where}: block_id longer than ${MAX_ID_LENGTH}`);
    if (block.type === 'section') {
      const text = textOf(block.text);
      if (text !== undefined && text.length > 3000) problems.push(`${where}: section text ${text.length} > 3000`);
      if (Array.isArray(block.fields)) {
        if (block.fields.length > 10) problems.push(`${where}: ${block.fields.length} fields > 10`);
        block.fields.forEach((f: unknown, j) => {
          const t = textOf(f);
          if (t !== undefined && t.length > 2000) problems.push(`${where}.fields[${j}]: ${t.length} > 2000`);
        });
      }
      validateElement(block.accessory, `${where}.accessory`, problems);
    } else if (block.type === 'header') {
      const text = textOf(block.text);
      if (text !== undefined && text.length > 150) problems.push(`${where}: header text ${text.length} > 150`);
    } else if (block.type === 'actions' && Array.isArray(block.elements)) {
      if (block.elements.length > 25) problems.push(`${where}: ${block.elements.length} elements > 25`);
      block.elements.forEach((el: unknown, j) => validateElement(el, `${where}.elements[${j}]`, problems));
    } else if (block.type === 'input') {
      validateElement(block.element, `${where}.element`, problems);
    }
  });
  return problems;
}

/** Reads the whole body but never buffers more than the limit; `null` means too large. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Keep draining past the limit instead of destroying the socket, so the
  // client receives a clean 413 rather than an EPIPE/ECONNRESET.
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8');
}

function parseJsonObject(raw: string): Obj | null {
  try {
    const parsed: unknown = JSON.parse(raw);
    return isObj(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function parseApiBody(raw: string, contentType: string): Obj | null {
  const body = !contentType.includes('application/json')
    ? Object.fromEntries(new URLSearchParams(raw))
    : raw === ''
      ? {}
      : parseJsonObject(raw);
  if (body === null) return null;
  for (const key of JSON_FIELDS) {
    const v = body[key];
    if (typeof v !== 'string') continue;
    try {
      body[key] = JSON.parse(v);
    } catch {
      // Leave it as a string: validateBlocks then reports it, as Slack would.
    }
  }
  return body;
}

function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  const isText = typeof payload === 'string';
  const type = isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
  res.writeHead(status, { 'content-type': type, ...headers });
  res.end(isText ? payload : JSON.stringify(payload));
}

export async function startSlackApiServer(opts: SlackApiServerOptions = {}): Promise<SlackApiServer> {
  const rate = opts.perChannelPerSecond ?? 1;
  const burst = opts.burst ?? 1;
  const updatesPerMinute = opts.updatesPerMinute;
  const updateBurst = opts.updateBurst ?? updatesPerMinute ?? 0;
  const now = opts.now ?? Date.now;
  const calls: RecordedCall[] = [];
  const conversations = createSlackConversations({ botUserId: 'U0VIGIL', now: () => now() });
  const responses: RecordedResponse[] = [];
  const violations: Violation[] = [];
  const faults: Array<{ fault: Fault; until: number; left: number }> = [];
  const buckets = new Map<string, { tokens: number; last: number }>();
  const userGroups = new Map<string, string[]>(Object.entries(opts.userGroups ?? {}));
  const openedViews: OpenedView[] = [];
  // Per channel (or per method for channel-less calls): when its announced Retry-After expires.
  const retryUntil = new Map<string, number>();
  const responseUrlUses = new Map<string, number>();
  // response_url faults, how many posts each path received (faulted or not), and hung requests.
  const responseFaults: Array<{ fault: ResponseUrlFault; left: number }> = [];
  const responsePosts = new Map<string, number>();
  const hung = new Set<ServerResponse>();
  let responseSeq = 0;
  // What the channels show: every stored message in post order, and an index by channel and ts.
  const store: StoredMessage[] = [];
  const byTs = new Map<string, StoredMessage>();
  const keyOf = (channel: string, ts: string): string => `${channel}\u0000${ts}`;
  // chat.update's workspace-wide bucket (only with `updatesPerMinute`).
  let updateBucket: { tokens: number; last: number } | null = null;
  let lastTsMicros = 0;
  let url = '';

  /** Token bucket per channel: refills continuously so a steady 1/s stream never trips it. */
  function takeToken(channel: string): boolean {
    const t = now();
    const b = buckets.get(channel) ?? { tokens: burst, last: t };
    b.tokens = Math.min(burst, b.tokens + ((t - b.last) / 1000) * rate);
    b.last = t;
    buckets.set(channel, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /**
   * chat.update's workspace bucket: refills `updatesPerMinute` a minute, holds `updateBurst`.
   * Returns 0 when the call may go out, or the whole seconds to announce in Retry-After.
   */
  function takeUpdateToken(): number {
    if (updatesPerMinute === undefined) return 0;
    const t = now();
    const perMs = updatesPerMinute / 60_000;
    const b = updateBucket ?? { tokens: updateBurst, last: t };
    b.tokens = Math.min(updateBurst, b.tokens + (t - b.last) * perMs);
    b.last = t;
    updateBucket = b;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return perMs > 0 ? Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000)) : 60;
  }

  /** Slack message ts values are unique per channel; we make them globally unique and monotonic. */
  function nextTs(): string {
    lastTsMicros = Math.max(lastTsMicros + 1, Math.floor(now() * 1000));
    return `${Math.floor(lastTsMicros / 1e6)}.${String(lastTsMicros % 1e6).padStart(6, '0')}`;
  }

  /** Checks shared by every chat.* method; returns a Slack error payload or null. */
  function checkMessage(body: Obj): Obj | null {
    if (typeof body.channel !== 'string' || body.channel === '') return { ok: false, error: 'channel_not_found' };
    const hasText = typeof body.text === 'string' && body.text !== '';
    const hasBlocks = body.blocks !== undefined && !(Array.isArray(body.blocks) && body.blocks.length === 0);
    if (!hasText && !hasBlocks) return { ok: false, error: 'no_text' };
    if (typeof body.text === 'string' && body.text.length > 40000) return { ok: false, error: 'msg_too_long' };
    if (body.blocks !== undefined) {
      const errors = validateBlocks(body.blocks);
      if (errors.length > 0) return { ok: false, error: 'invalid_blocks', errors };
    }
    return null;
  }

  /** The first active fault matching this request, consuming one use of a counted fault. */
  function takeFault(method: string, scope: string): Fault | null {
    const t = now();
    for (let i = 0; i < faults.length; i++) {
      const f = faults[i] as { fault: Fault; until: number; left: number };
      if (t >= f.until || f.left <= 0) {
        faults.splice(i--, 1);
        continue;
      }
      if ((f.fault.method ?? method) !== method || (f.fault.channel ?? scope) !== scope) continue;
      f.left -= 1;
      return f.fault;
    }
    return null;
  }

  /** Returns [httpStatus, payload, extraHeaders], or null to drop the connection. */
  function answer(method: string, body: Obj, token: string | undefined): [number, Obj, Record<string, string>?] | null | 'hang' {
    const scope = typeof body.channel === 'string' && body.channel !== '' ? body.channel : method;
    // The scope of the stand-in's own limit: the channel for chat.postMessage, the workspace
    // (named by the method) for chat.update.
    const ownScope = method === 'chat.update' && updatesPerMinute !== undefined ? method : scope;
    const t = now();
    const early = [scope, ownScope].find((s) => t < (retryUntil.get(s) ?? 0));
    if (early !== undefined) violations.push({ kind: 'retry_after', method, scope: early, at: t });
    const fault = takeFault(method, scope);
    if (fault?.reset) return null;
    let result: [number, Obj, Record<string, string>?];
    let limited = scope;
    if (fault?.status === 429) {
      result = [429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfter ?? 1) }];
    } else if (fault?.lostAnswer) {
      dispatch(method, body, token);
      return null;
    } else if (fault?.acceptedThenHang) {
      dispatch(method, body, token);
      return 'hang';
    } else if (fault) {
      result = [fault.status ?? 200, { ok: false, error: fault.error ?? 'internal_error' }];
    } else {
      result = dispatch(method, body, token);
      // The stand-in's own bucket refused: the client sent faster than the channel (or workspace) allows.
      if (result[0] === 429) {
        limited = ownScope;
        violations.push({ kind: 'rate_limit', method, scope: limited, at: t });
      }
    }
    const retryAfter = result[2]?.['retry-after'];
    if (result[0] === 429 && retryAfter !== undefined) retryUntil.set(limited, Math.max(retryUntil.get(limited) ?? 0, t + Number(retryAfter) * 1000));
    return result;
  }

  /** Returns [httpStatus, payload, extraHeaders]. */
  function dispatch(method: string, body: Obj, token: string | undefined): [number, Obj, Record<string, string>?] {
    const known = ['auth.test', 'chat.postMessage', 'chat.postEphemeral', 'chat.update', 'apps.connections.open', 'usergroups.users.list', 'views.open', 'conversations.history', 'conversations.replies'];
    if (!known.includes(method) && !conversations.handles(method)) return [200, { ok: false, error: 'unknown_method' }];
    if (token === undefined || token === '') return [200, { ok: false, error: 'not_authed' }];
    // Socket Mode: only an app-level token may open a connection, and only a bot token may do the rest.
    if (method === 'apps.connections.open') {
      if (!token.startsWith('xapp-')) return [200, { ok: false, error: 'invalid_auth' }];
      return opts.socketUrl ? [200, { ok: true, url: opts.socketUrl }] : [200, { ok: false, error: 'not_allowed_token_type' }];
    }
    if (!token.startsWith('xoxb-')) return [200, { ok: false, error: 'invalid_auth' }];
    if (method === 'auth.test') {
      return [200, { ok: true, url: `${url}/`, team: 'Vigil Test', user: 'vigil', team_id: 'T0TEST', user_id: 'U0VIGIL', bot_id: 'B0VIGIL' }];
    }
    if (method === 'views.open') {
      // Slack: a trigger_id is required (and expires 3 s after the click); a modal's title ≤ 24.
      const view = isObj(body.view) ? body.view : null;
      if (typeof body.trigger_id !== 'string' || body.trigger_id === '') return [200, { ok: false, error: 'invalid_trigger_id' }];
      if (!view || view.type !== 'modal') return [200, { ok: false, error: 'invalid_arguments' }];
      const title = textOf(view.title);
      if (title === undefined || title.length > 24 || validateBlocks(view.blocks).length > 0) return [200, { ok: false, error: 'invalid_arguments' }];
      openedViews.push({ triggerId: body.trigger_id, view });
      return [200, { ok: true, view: { id: `V${openedViews.length}`, ...view } }];
    }
    if (method === 'usergroups.users.list') {
      // Slack: `no_such_subteam` for an unknown group; `users` are the member ids.
      const members = typeof body.usergroup === 'string' ? userGroups.get(body.usergroup) : undefined;
      return members ? [200, { ok: true, users: members }] : [200, { ok: false, error: 'no_such_subteam' }];
    }
    if (method === 'conversations.history' || method === 'conversations.replies') return [200, readChannel(method, body)];
    if (conversations.handles(method)) return [200, conversations.answer(method, body)];
    const problem = checkMessage(body);
    if (problem) return [200, problem];
    const channel = body.channel as string;
    if (method === 'chat.postMessage') {
      // Slack documents `thread_not_found` only for reading threads (conversations.replies); chat.postMessage
      // answers `invalid_thread_ts` for a thread_ts it cannot thread under (seen for malformed, empty and deleted parents).
      const threadTs = body.thread_ts;
      if (threadTs !== undefined && (typeof threadTs !== 'string' || !byTs.has(keyOf(channel, threadTs)))) {
        return [200, { ok: false, error: 'invalid_thread_ts' }];
      }
      // Checked after validation so a rejected message does not spend the channel's allowance.
      if (!takeToken(channel)) return [429, { ok: false, error: 'ratelimited' }, { 'retry-after': '1' }];
      const ts = nextTs();
      const at = now();
      const text = typeof body.text === 'string' ? body.text : '';
      const blocks = Array.isArray(body.blocks) ? body.blocks : [];
      const message: StoredMessage = {
        channel,
        ts,
        text,
        blocks,
        ...(typeof threadTs === 'string' && { threadTs }),
        ...(isObj(body.metadata) && { metadata: body.metadata }),
        postedAt: at,
        updates: 0,
        history: [{ text, blocks, at }],
      };
      store.push(message);
      byTs.set(keyOf(channel, ts), message);
      return [200, { ok: true, channel, ts, message: { text: body.text, blocks: body.blocks } }];
    }
    if (method === 'chat.postEphemeral') return [200, { ok: true, message_ts: nextTs() }];
    const message = typeof body.ts === 'string' ? byTs.get(keyOf(channel, body.ts)) : undefined;
    if (message === undefined) return [200, { ok: false, error: 'message_not_found' }];
    // Like chat.postMessage: only a change that would go through spends the allowance.
    const wait = takeUpdateToken();
    if (wait > 0) return [429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(wait) }];
    // Slack keeps the previous blocks when `blocks` is left out (an empty array removes them).
    if (typeof body.text === 'string') message.text = body.text;
    if (Array.isArray(body.blocks)) message.blocks = body.blocks;
    message.updates += 1;
    message.history.push({ text: message.text, blocks: message.blocks, at: now() });
    return [200, { ok: true, channel, ts: message.ts, text: body.text }];
  }

  /**
   * conversations.history (top-level messages, newest first) and conversations.replies (the parent
   * `ts` and its replies, oldest first), from `oldest` on, `limit` at a time with a cursor. As Slack
   * does, message metadata is included only with `include_all_metadata`.
   */
  function readChannel(method: string, body: Obj): Obj {
    const channel = typeof body.channel === 'string' ? body.channel : '';
    if (channel === '') return { ok: false, error: 'channel_not_found' };
    const oldest = Number(body.oldest ?? 0);
    const limit = Math.min(1000, Number(body.limit ?? 100));
    const offset = Number(body.cursor ?? 0);
    const withMetadata = body.include_all_metadata === true || body.include_all_metadata === 'true';
    let found: StoredMessage[];
    if (method === 'conversations.replies') {
      const parent = typeof body.ts === 'string' ? byTs.get(keyOf(channel, body.ts)) : undefined;
      if (!parent) return { ok: false, error: 'thread_not_found' };
      found = [parent, ...store.filter((m) => m.channel === channel && m.threadTs === parent.ts)];
    } else {
      found = store.filter((m) => m.channel === channel && m.threadTs === undefined).reverse();
    }
    found = found.filter((m) => Number(m.ts) >= oldest);
    const pageOf = found.slice(offset, offset + limit);
    const next = offset + limit < found.length ? String(offset + limit) : '';
    return {
      ok: true,
      messages: pageOf.map((m) => ({ type: 'message', ts: m.ts, text: m.text, ...(m.threadTs && { thread_ts: m.threadTs }), ...(withMetadata && m.metadata !== undefined && { metadata: m.metadata }) })),
      has_more: next !== '',
      response_metadata: { next_cursor: next },
    };
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, method: string, query: URLSearchParams): Promise<void> {
    const raw = await readBody(req);
    if (raw === null) return send(res, 413, 'request_too_large');
    const body = parseApiBody(raw, req.headers['content-type'] ?? '');
    if (body === null) return send(res, 200, { ok: false, error: 'invalid_json' });
    for (const [k, v] of query) if (!(k in body)) body[k] = v;
    const auth = req.headers.authorization;
    const bodyToken = typeof body.token === 'string' ? body.token : undefined;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : bodyToken;
    delete body.token; // recorded separately, and keeps secrets out of snapshot diffs
    const at = now();
    const result = answer(method, body, token);
    if (result === null || result === 'hang') {
      calls.push({ method, body, ...(token !== undefined && { token }), status: 0, response: {}, at });
      if (result === 'hang') return void hung.add(res);
      return void res.destroy();
    }
    const [status, payload, headers] = result;
    calls.push({ method, body, ...(token !== undefined && { token }), status, response: payload, at });
    send(res, status, payload, headers);
  }

  async function handleResponseUrl(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const raw = await readBody(req);
    if (raw === null) return send(res, 413, 'request_too_large');
    const parsed = parseJsonObject(raw);
    const body = parsed ?? { raw }; // keep unparseable payloads visible to the test
    const record = (status: number, text: string): void => {
      responses.push({ path, body, status, at: now() });
      send(res, status, text);
    };
    if (parsed === null) return record(400, 'invalid_payload');
    const attempt = (responsePosts.get(path) ?? 0) + 1;
    responsePosts.set(path, attempt);
    const fault = takeResponseFault({ id: decodeURIComponent(path.slice('/response/'.length)), seq: responseSeq++, attempt });
    if (fault?.hang) {
      responses.push({ path, body, status: 0, at: now() });
      hung.add(res);
      res.once('close', () => hung.delete(res));
      return;
    }
    if (fault?.redirect) {
      responses.push({ path, body, status: fault.redirect.status, at: now() });
      return send(res, fault.redirect.status, 'redirect', { location: fault.redirect.to });
    }
    if (fault) {
      responses.push({ path, body, status: fault.status ?? 500, at: now() });
      const retryAfter: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
      return send(res, fault.status ?? 500, fault.status === 429 ? 'rate_limited' : 'internal_error', retryAfter);
    }
    // Only accepted posts count towards Slack's five-uses-per-URL allowance.
    const used = responseUrlUses.get(path) ?? 0;
    if (used >= MAX_POSTS_PER_RESPONSE_URL) return record(404, 'used_url');
    if (body.blocks !== undefined && validateBlocks(body.blocks).length > 0) return record(400, 'invalid_blocks');
    responseUrlUses.set(path, used + 1);
    record(200, 'ok');
  }

  /** The first response_url fault matching this post, consuming one use of a counted fault. */
  function takeResponseFault(post: ResponseUrlPost): ResponseUrlFault | null {
    for (let i = 0; i < responseFaults.length; i++) {
      const f = responseFaults[i] as { fault: ResponseUrlFault; left: number };
      if (f.left <= 0) {
        responseFaults.splice(i--, 1);
        continue;
      }
      if (f.fault.id !== undefined && f.fault.id !== post.id) continue;
      if (f.fault.when && !f.fault.when(post)) continue;
      f.left -= 1;
      return f.fault;
    }
    return null;
  }

  const server = createServer((req, res) => {
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://localhost');
    let work: Promise<void>;
    if (pathname.startsWith('/api/')) {
      work = handleApi(req, res, pathname.slice('/api/'.length), searchParams);
    } else if (pathname.startsWith('/response/') && req.method === 'POST') {
      work = handleResponseUrl(req, res, pathname);
    } else {
      req.resume();
      return send(res, 404, 'not_found');
    }
    // A bug in the stand-in should fail the test loudly, not hang it.
    work.catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, String(err));
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    calls,
    responses,
    violations,
    openedViews,
    conversations,
    setUserGroup(id, members) {
      userGroups.set(id, [...members]);
    },
    inject(fault) {
      const timed = fault.forMs !== undefined;
      faults.push({ fault, until: timed ? now() + (fault.forMs as number) : Infinity, left: fault.count ?? Infinity });
    },
    injectResponseUrl(fault) {
      responseFaults.push({ fault, left: fault.count ?? Infinity });
    },
    responseUrl: (id = randomUUID()) => `${url}/response/${encodeURIComponent(id)}`,
    async waitFor(pred, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    messages: (channel) => (channel === undefined ? [...store] : store.filter((m) => m.channel === channel)),
    topLevel: (channel) => store.filter((m) => m.channel === channel && m.threadTs === undefined),
    replies: (channel, threadTs) => store.filter((m) => m.channel === channel && m.threadTs === threadTs),
    messageTexts: (channel) => store.filter((m) => m.channel === channel).map((m) => m.text),
    reset() {
      // Mutate in place: tests often hold references to `calls`/`responses`.
      calls.length = 0;
      responses.length = 0;
      violations.length = 0;
      faults.length = 0;
      retryUntil.clear();
      buckets.clear();
      responseUrlUses.clear();
      responseFaults.length = 0;
      responsePosts.clear();
      responseSeq = 0;
      for (const res of hung) res.destroy();
      hung.clear();
      store.length = 0;
      byTs.clear();
      updateBucket = null;
      conversations.reset();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets from fetch/WebClient would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
