import type { Button, Link, Reply, RichText, Section, Status, Visibility } from '../core/reply.ts';
import { deepFreeze } from '../core/dispatch.ts';
import type { Form, FormField, FormOption } from '../core/interactions.ts';
import { OPEN_LINK, replyButtons } from '../core/interactions.ts';
import { tableLines } from '../render/table.ts';

/**
 * Block Kit rendering. This file is the one place that knows Slack's message limits; every
 * message Vigil posts goes through it, so no caller can exceed them.
 */
export const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  fallbackText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  linkUrl: 3000,
  actionId: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  modalTitle: 24,
  inputLabel: 2000,
  selectOptions: 100,
  optionText: 75,
  optionValue: 150,
} as const;

// A Block Kit block; typed loosely on purpose: Bolt's own block types are a union we only emit.
export interface Block {
  type: string;
  block_id?: string;
  [field: string]: unknown;
}

interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}

export interface Modal {
  type: 'modal';
  title: PlainText;
  close: PlainText;
  blocks: Block[];
}

/** Slack's name for who sees an answer. */
export type ResponseType = 'ephemeral' | 'in_channel';

export interface SlackMessage {
  text: string;
  blocks: Block[];
  response_type: ResponseType;
}

const RESPONSE_TYPE: Record<Visibility, ResponseType> = { private: 'ephemeral', channel: 'in_channel' };

const EMOJI: Record<Status, string> = { ok: ':large_green_circle:', warn: ':large_yellow_circle:', fail: ':red_circle:', info: ':information_source:' };
const TABLE_MARK: Record<Status, string> = { ok: '✓', warn: '!', fail: '✗', info: '·' };

/**
 * Slack reads `& < >` as control characters in every text it shows (mrkdwn, the notification
 * text, and plain_text too, which it stores entity-escaped), so text from users, probes or alerts
 * has exactly these three escaped, everywhere, code blocks included.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// Slack ids are upper-case letters and digits; anything else is shown as text, never as syntax.
const SLACK_ID = /^[A-Z0-9]{2,40}$/;

/**
 * RichText as mrkdwn: plain parts escaped, references drawn as Slack draws them (`<#C…>` a channel
 * link, `<@U…>` a mention, `<!subteam^S…>` a user group mention).
 */
export function richMrkdwn(text: RichText): string {
  if (typeof text === 'string') return escapeMrkdwn(text);
  return text
    .map((part) => {
      if (typeof part === 'string') return escapeMrkdwn(part);
      const [syntax, id] = 'channel' in part ? ['#', part.channel] : 'user' in part ? ['@', part.user] : ['!subteam^', part.userGroup];
      return SLACK_ID.test(id) ? `<${syntax}${id}>` : escapeMrkdwn(id);
    })
    .join('');
}

/** Cut `text` to `max` characters, marking the cut. Applied after escaping, never splitting an entity. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  const amp = cut.lastIndexOf('&');
  if (amp > cut.length - 5 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return `${cut}…`;
}

const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const section = (text: string): Block => ({ type: 'section', text: mrkdwn(clip(text, LIMITS.sectionText)) });

export function renderBlocks(reply: Reply, defaultVisibility: ResponseType = 'ephemeral'): SlackMessage {
  const body: Block[] = [
    { type: 'header', text: { ...plain(reply.title, LIMITS.headerText), emoji: true } },
  ];
  if (reply.summary) body.push(section(`${EMOJI[reply.status]} ${richMrkdwn(reply.summary)}`));
  for (const s of reply.sections ?? []) body.push(...sectionBlocks(s));

  const { blocks: buttonBlocks, dropped } = actionBlocks(replyButtons(reply), reply.links ?? []);
  const notes = [...(reply.notes ?? []), ...(dropped > 0 ? [`${dropped} button(s) left out: their data is over Slack's limit or their link is not http(s).`] : [])];
  const tail: Block[] = [];
  if (notes.length > 0) {
    // Notes are joined into one element ≤ 3000 chars so long lists do not overflow the 10-element limit.
    tail.push({ type: 'context', elements: [mrkdwn(clip(notes.map(richMrkdwn).join('\n'), LIMITS.sectionText))] });
  }
  tail.push(...buttonBlocks);
  // The notification text is mrkdwn too: unescaped, `<!here>` in a summary would ping a channel.
  const fallback = [escapeMrkdwn(reply.title), ...(reply.summary ? [richMrkdwn(reply.summary)] : [])].join(': ');
  return {
    text: clip(fallback, LIMITS.fallbackText),
    blocks: capBlocks(body, tail),
    response_type: reply.visibility ? RESPONSE_TYPE[reply.visibility] : defaultVisibility,
  };
}

/** What frozen replies were rendered to, per default visibility (see `renderMessage`). */
const renderedFrozen = new WeakMap<Reply, Partial<Record<ResponseType, SlackMessage>>>();

/**
 * `renderBlocks`, done once for a frozen reply. A command that hands the same reply to many
 * people (/health from one snapshot within a tenth of a second, help) freezes it to say it will
 * not change; its message is then built once and handed out frozen too (deeply), so the HTTP
 * receiver may reuse its JSON as well. Anything else is rendered afresh, as before.
 */
export function renderMessage(reply: Reply, defaultVisibility: ResponseType = 'ephemeral'): SlackMessage {
  if (!Object.isFrozen(reply)) return renderBlocks(reply, defaultVisibility);
  let byVisibility = renderedFrozen.get(reply);
  if (!byVisibility) {
    byVisibility = {};
    renderedFrozen.set(reply, byVisibility);
  }
  return (byVisibility[defaultVisibility] ??= deepFreeze(renderBlocks(reply, defaultVisibility)));
}

/** A form as a modal: its intro, then one input per field, its answers under the field ids. */
export function renderForm(form: Form): Modal & { callback_id: string; private_metadata: string; submit: PlainText } {
  return {
    type: 'modal',
    callback_id: form.handler,
    private_metadata: form.privateMetadata.slice(0, 3000),
    title: plain(form.title, LIMITS.modalTitle),
    submit: plain(form.submit, LIMITS.modalTitle),
    close: plain('Cancel', LIMITS.modalTitle),
    blocks: [...(form.intro ? [section(richMrkdwn(form.intro))] : []), ...form.fields.map(inputBlock)],
  };
}

/** A text field as a plain-text input, a choice as a static select; the value's action id is `value`. */
function inputBlock(f: FormField): Block {
  return {
    type: 'input',
    block_id: f.id,
    label: plain(f.label, LIMITS.inputLabel),
    ...(f.hint ? { hint: plain(f.hint, LIMITS.inputLabel) } : {}),
    element: f.options
      ? selectElement(f.id, f.options, f.initial)
      : f.person
        ? { type: 'users_select', action_id: 'value', ...(f.initial ? { initial_user: f.initial } : {}) }
        : { type: 'plain_text_input', action_id: 'value', multiline: f.multiline === true, ...(f.maxLength ? { max_length: f.maxLength } : {}) },
  };
}

/**
 * Slack refuses a select with an option value over 150 characters or over 100 options: such
 * options are left out (a value is data and is never cut), and so is a preselection not among
 * those kept. With no option left the form cannot be shown at all, which is the caller's bug.
 */
function selectElement(id: string, all: FormOption[], initial: string | undefined): Record<string, unknown> {
  const options = all
    .filter((o) => o.value.length > 0 && o.value.length <= LIMITS.optionValue)
    .slice(0, LIMITS.selectOptions)
    .map((o) => ({ text: plain(o.label, LIMITS.optionText), value: o.value }));
  if (options.length === 0) throw new Error(`form field ${id}: no option Slack can show (values are 1 to ${LIMITS.optionValue} characters)`);
  const preselected = options.find((o) => o.value === initial);
  return { type: 'static_select', action_id: 'value', options, ...(preselected ? { initial_option: preselected } : {}) };
}

/** A modal showing a reply (the answer to a submitted form). */
export function renderModal(reply: Reply): Modal {
  return {
    type: 'modal',
    title: plain(reply.title, LIMITS.modalTitle),
    close: plain('Close', LIMITS.modalTitle),
    blocks: renderBlocks(reply).blocks,
  };
}

/**
 * Buttons in actions blocks of at most 25. `action_id` is the handler id plus the button's
 * position, because Slack wants ids unique within a message. A value Slack would refuse is left out.
 */
function actionBlocks(buttons: Button[], links: Link[]): { blocks: Block[]; dropped: number } {
  const elements: Block[] = [];
  let dropped = 0;
  buttons.forEach((b, i) => {
    const actionId = `${b.handler}#${i}`;
    if (b.value.length > LIMITS.buttonValue || actionId.length > LIMITS.actionId) return void dropped++;
    elements.push({
      type: 'button',
      action_id: actionId,
      text: { ...plain(b.label, LIMITS.buttonText), emoji: true },
      // Data for the handler, never shown: Slack hands it back as sent, so it is not escaped.
      value: b.value,
      ...(b.style ? { style: b.style } : {}),
      ...(b.confirm
        ? {
            confirm: {
              title: plain(b.confirm.title, LIMITS.confirmTitle),
              text: plain(b.confirm.text, LIMITS.confirmText),
              confirm: plain(b.confirm.confirm, LIMITS.confirmButton),
              deny: plain(b.confirm.deny, LIMITS.confirmButton),
            },
          }
        : {}),
    });
  });
  links.forEach((l, i) => {
    // Slack refuses URLs over 3000 characters and anything but http(s) would not open.
    if (l.url.length > LIMITS.linkUrl || !/^https?:\/\//i.test(l.url)) return void dropped++;
    elements.push({ type: 'button', action_id: `${OPEN_LINK}#${i}`, text: { ...plain(l.label, LIMITS.buttonText), emoji: true }, url: l.url });
  });
  const blocks: Block[] = [];
  for (let i = 0; i < elements.length; i += LIMITS.actionsElements) {
    blocks.push({ type: 'actions', elements: elements.slice(i, i + LIMITS.actionsElements) });
  }
  return { blocks, dropped };
}

/** Plain text is escaped like mrkdwn (Slack decodes the entities for display), then clipped. */
const plain = (text: string, max: number): PlainText => ({ type: 'plain_text', text: clip(escapeMrkdwn(text), max) });

function sectionBlocks(s: Section): Block[] {
  const heading = `${s.status ? `${EMOJI[s.status]} ` : ''}*${escapeMrkdwn(s.heading)}*`;
  const out: Block[] = [section(s.text ? `${heading}\n${escapeMrkdwn(s.text)}` : heading)];
  if (s.fields?.length) {
    for (let i = 0; i < s.fields.length; i += LIMITS.fields) {
      out.push({
        type: 'section',
        fields: s.fields.slice(i, i + LIMITS.fields).map((f) => mrkdwn(clip(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, LIMITS.fieldText))),
      });
    }
  }
  if (s.table) out.push(...codeBlocks(tableLines(s.table, { marker: (st) => TABLE_MARK[st] }).map(escapeMrkdwn)));
  return out;
}

/** Pack lines into as few ``` sections as fit 3000 characters each; an overlong line is clipped. */
function codeBlocks(lines: string[]): Block[] {
  const fence = '```';
  const room = LIMITS.sectionText - fence.length * 2 - 2;
  const chunks: string[][] = [[]];
  let size = 0;
  for (const raw of lines) {
    const line = clip(raw, room);
    const current = chunks[chunks.length - 1] as string[];
    if (size + line.length + 1 > room && current.length > 0) {
      chunks.push([line]);
      size = line.length + 1;
    } else {
      current.push(line);
      size += line.length + 1;
    }
  }
  return chunks.map((chunk) => ({ type: 'section', text: mrkdwn(`${fence}\n${chunk.join('\n')}\n${fence}`) }));
}

/**
 * Over 50 blocks, the body is cut and says what was left out rather than let Slack reject the
 * message; the tail (notes and buttons, e.g. Approve) is always kept.
 */
function capBlocks(body: Block[], tail: Block[]): Block[] {
  if (body.length + tail.length <= LIMITS.blocks) return [...body, ...tail];
  const kept = body.slice(0, LIMITS.blocks - tail.length - 1);
  const left = body.length - kept.length;
  kept.push({ type: 'context', elements: [mrkdwn(`…${left} more blocks left out (Slack shows at most ${LIMITS.blocks}). Run the command from the CLI with --json for everything.`)] });
  return [...kept, ...tail];
}
