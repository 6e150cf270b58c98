/**
 * Signed slash-command requests shaped like the ones Slack really sends: a form-encoded body with
 * the same fields in the same order, `X-Slack-Request-Timestamp` and `X-Slack-Signature` headers.
 * Used by the end-to-end tests and the benchmarks.
 */
import { randomBytes } from 'node:crypto';
import { signSlackRequest } from '../../src/slack/verify.ts';

/** The fields of a slash-command payload, as Slack names them. All but `command` have defaults. */
export interface SlashCommandFields {
  command: string;
  text?: string;
  /** Slack's deprecated verification token (not a bot token); Vigil ignores it. */
  token?: string;
  team_id?: string;
  team_domain?: string;
  channel_id?: string;
  channel_name?: string;
  user_id?: string;
  user_name?: string;
  api_app_id?: string;
  is_enterprise_install?: 'true' | 'false';
  /** Leave out to send none; tests that expect a delayed answer pass the stand-in's URL. */
  response_url?: string;
  trigger_id?: string;
}

export interface SignOptions {
  signingSecret: string;
  /** Added to the current time before signing, in seconds (negative: in the past). */
  timestampOffsetSeconds?: number;
  /** Sign with a different secret: same shape as a genuine signature, wrong value. */
  wrongSignature?: boolean;
  /** Clock in ms; defaults to Date.now(). */
  nowMs?: number;
}

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The form body, fields in the order Slack sends them. */
export function slashCommandBody(fields: SlashCommandFields): string {
  const params = new URLSearchParams();
  params.set('token', fields.token ?? 'gIkuvaNzQIHg97ATvDxqgjtO');
  params.set('team_id', fields.team_id ?? 'T0001');
  params.set('team_domain', fields.team_domain ?? 'example');
  params.set('channel_id', fields.channel_id ?? 'C2147483705');
  params.set('channel_name', fields.channel_name ?? 'incidents');
  params.set('user_id', fields.user_id ?? 'U2147483697');
  params.set('user_name', fields.user_name ?? 'steve');
  params.set('command', fields.command);
  params.set('text', fields.text ?? '');
  params.set('api_app_id', fields.api_app_id ?? 'A0VIGIL01');
  params.set('is_enterprise_install', fields.is_enterprise_install ?? 'false');
  if (fields.response_url !== undefined) params.set('response_url', fields.response_url);
  params.set('trigger_id', fields.trigger_id ?? `${Date.now()}.${hex(4)}.${hex(16)}`);
  return params.toString();
}

/** Sign an arbitrary raw body (for oversized or malformed bodies). */
export function signBody(body: string, opts: SignOptions): SignedRequest {
  const timestamp = Math.floor((opts.nowMs ?? Date.now()) / 1000) + (opts.timestampOffsetSeconds ?? 0);
  const secret = opts.wrongSignature ? `${opts.signingSecret}-not-it` : opts.signingSecret;
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signSlackRequest(secret, body, timestamp),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    },
  };
}

export function signedSlashCommand(fields: SlashCommandFields, opts: SignOptions): SignedRequest {
  return signBody(slashCommandBody(fields), opts);
}

export interface SlackPostResult {
  status: number;
  contentType: string;
  text: string;
  /** The parsed body when it was JSON, else null. */
  json: Record<string, unknown> | null;
}

/** POST a signed request to `url` (Vigil's `/slack/events`) and read the whole answer. */
export async function postSigned(url: string, req: SignedRequest): Promise<SlackPostResult> {
  const res = await fetch(url, { method: 'POST', headers: req.headers, body: req.body });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  let json: Record<string, unknown> | null = null;
  if (contentType.startsWith('application/json')) {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  }
  return { status: res.status, contentType, text, json };
}

/** The parts of a button click that vary; the rest is shaped like Slack's own block_actions. */
export interface BlockActionFields {
  actionId: string;
  value: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  messageTs?: string;
  responseUrl?: string;
}

/** A block_actions interaction as Slack posts it: form-encoded, the JSON in `payload`. */
export function blockActionsBody(f: BlockActionFields): string {
  const messageTs = f.messageTs ?? '1700000000.000100';
  const channelId = f.channelId ?? 'C2147483705';
  const payload = {
    type: 'block_actions',
    user: { id: f.userId ?? 'U2147483697', username: f.userName ?? 'steve', name: f.userName ?? 'steve', team_id: 'T0001' },
    api_app_id: 'A0VIGIL01',
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    container: { type: 'message', message_ts: messageTs, channel_id: channelId, is_ephemeral: false },
    trigger_id: `${Date.now()}.${hex(4)}.${hex(16)}`,
    team: { id: 'T0001', domain: 'example' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channelId, name: 'incidents' },
    message: { type: 'message', ts: messageTs, text: 'Health: degraded', user: 'U0VIGIL', bot_id: 'B0VIGIL' },
    state: { values: {} },
    ...(f.responseUrl ? { response_url: f.responseUrl } : {}),
    actions: [
      { type: 'button', action_id: f.actionId, block_id: 'b1', text: { type: 'plain_text', text: 'Go', emoji: true }, value: f.value, action_ts: `${Date.now() / 1000}` },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/**
 * A view_submission as Slack posts it: the modal's inputs by block id and action id; `choices` are
 * static selects (block id → the chosen option's value), `null` for one left unchosen; `users` people pickers.
 */
export function viewSubmissionBody(f: {
  callbackId: string;
  values: Record<string, string>;
  choices?: Record<string, string | null>;
  /** People pickers (users_select): block id → the chosen user id. */
  users?: Record<string, string>;
  userId?: string;
  privateMetadata?: string;
}): string {
  const values = Object.fromEntries([
    ...Object.entries(f.values).map(([blockId, value]) => [blockId, { input: { type: 'plain_text_input', value } }]),
    ...Object.entries(f.users ?? {}).map(([blockId, user]) => [blockId, { value: { type: 'users_select', selected_user: user } }]),
    ...Object.entries(f.choices ?? {}).map(([blockId, value]) => [
      blockId,
      { value: { type: 'static_select', selected_option: value === null ? null : { text: { type: 'plain_text', text: value, emoji: true }, value } } },
    ]),
  ]);
  const payload = {
    type: 'view_submission',
    team: { id: 'T0001', domain: 'example' },
    user: { id: f.userId ?? 'U2147483697', username: 'steve', name: 'steve', team_id: 'T0001' },
    api_app_id: 'A0VIGIL01',
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    trigger_id: `${Date.now()}.${hex(4)}.${hex(16)}`,
    view: {
      id: 'V0001',
      type: 'modal',
      callback_id: f.callbackId,
      private_metadata: f.privateMetadata ?? '',
      title: { type: 'plain_text', text: 'Vigil' },
      blocks: [],
      state: { values },
    },
    response_urls: [],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
