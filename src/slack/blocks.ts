import type { Reply, Section, Status } from '../core/reply.ts';
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
} as const;

// A Block Kit block; typed loosely on purpose: Bolt's own block types are a union we only emit.
export type Block = Record<string, unknown>;

export interface SlackMessage {
  text: string;
  blocks: Block[];
  response_type: 'ephemeral' | 'in_channel';
}

const EMOJI: Record<Status, string> = { ok: ':large_green_circle:', warn: ':large_yellow_circle:', fail: ':red_circle:', info: ':information_source:' };
const TABLE_MARK: Record<Status, string> = { ok: '✓', warn: '!', fail: '✗', info: '·' };

/** Slack's mrkdwn needs exactly these three escaped, everywhere, code blocks included. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
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

export function renderBlocks(reply: Reply, defaultVisibility: 'ephemeral' | 'in_channel' = 'ephemeral'): SlackMessage {
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(reply.title, LIMITS.headerText), emoji: true } },
  ];
  if (reply.summary) blocks.push(section(`${EMOJI[reply.status]} ${escapeMrkdwn(reply.summary)}`));
  for (const s of reply.sections ?? []) blocks.push(...sectionBlocks(s));
  const context = [
    ...(reply.notes ?? []).map((n) => escapeMrkdwn(n)),
    ...(reply.actions ?? []).map((a) => `Next: ${escapeMrkdwn(a.label)} → \`${escapeMrkdwn(a.command)}\``),
  ];
  if (context.length > 0) {
    // Notes are joined into one element each ≤ 3000 chars so long lists do not overflow the 10-element limit.
    blocks.push({ type: 'context', elements: [mrkdwn(clip(context.join('\n'), LIMITS.sectionText))] });
  }
  const fallback = [reply.title, reply.summary].filter(Boolean).join(': ');
  return {
    text: clip(fallback, LIMITS.fallbackText),
    blocks: capBlocks(blocks),
    response_type: reply.visibility ?? defaultVisibility,
  };
}

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

/** Over 50 blocks, keep the first 49 and say what was left out rather than let Slack reject the message. */
function capBlocks(blocks: Block[]): Block[] {
  if (blocks.length <= LIMITS.blocks) return blocks;
  const kept = blocks.slice(0, LIMITS.blocks - 1);
  const left = blocks.length - kept.length;
  kept.push({ type: 'context', elements: [mrkdwn(`…${left} more blocks left out (Slack shows at most ${LIMITS.blocks}). Run the command from the CLI with --json for everything.`)] });
  return kept;
}
