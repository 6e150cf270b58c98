/**
 * The channel part of the Slack stand-in (test/support/slack-api-server.ts): conversations.create,
 * .invite, .setTopic, .setPurpose and .list, with the rules and error codes Slack documents, so
 * the incident channel worker meets what the real Slack would answer.
 *
 * - create: names are lower-case letters, digits, `-` and `_`, at most 80 characters
 *   (`invalid_name_specials`, `invalid_name_maxlength`, `invalid_name_required`,
 *   `invalid_name_punctuation`); a name any channel has is `name_taken`. The creator is a member.
 * - invite: `channel_not_found`; `cant_invite_self` for the bot; `already_in_channel` for a member.
 * - setTopic / setPurpose: at most 250 characters (`too_long`); `channel_not_found`.
 * - list: public channels, `limit` at a time with a cursor, each with its purpose and creator.
 */
export interface StandInChannel {
  id: string;
  name: string;
  creator: string;
  created: number;
  topic: string;
  purpose: string;
  members: string[];
  /** Every topic set, oldest first. */
  topics: string[];
}

type Obj = Record<string, unknown>;

export interface SlackConversations {
  /** Channels, in creation order (those made by tests with `add` too). */
  channels: StandInChannel[];
  /** A channel someone else made (a name already taken), with a purpose of its own. */
  add(name: string, purpose?: string): StandInChannel;
  handles(method: string): boolean;
  answer(method: string, body: Obj): Obj;
  reset(): void;
}

const MAX_NAME = 80;
const MAX_TOPIC = 250;

export function createSlackConversations(o: { botUserId: string; now: () => number }): SlackConversations {
  const channels: StandInChannel[] = [];
  let next = 1;
  const make = (name: string, creator: string, purpose = ''): StandInChannel => {
    const ch: StandInChannel = { id: `C0INC${String(next++).padStart(4, '0')}`, name, creator, created: Math.floor(o.now() / 1000), topic: '', purpose, members: [creator], topics: [] };
    channels.push(ch);
    return ch;
  };
  const byId = (v: unknown) => channels.find((c) => c.id === v);
  const str = (v: unknown) => (typeof v === 'string' ? v : '');

  function create(body: Obj): Obj {
    const name = str(body.name);
    if (name === '') return { ok: false, error: 'invalid_name_required' };
    if (name.length > MAX_NAME) return { ok: false, error: 'invalid_name_maxlength' };
    if (!/^[a-z0-9_-]+$/.test(name)) return { ok: false, error: 'invalid_name_specials' };
    if (/^[-_]+$/.test(name)) return { ok: false, error: 'invalid_name_punctuation' };
    if (channels.some((c) => c.name === name)) return { ok: false, error: 'name_taken' };
    const ch = make(name, o.botUserId);
    return { ok: true, channel: view(ch) };
  }

  function invite(body: Obj): Obj {
    const ch = byId(body.channel);
    if (!ch) return { ok: false, error: 'channel_not_found' };
    const users = str(body.users).split(',').filter(Boolean);
    if (users.length === 0) return { ok: false, error: 'no_user' };
    if (users.includes(o.botUserId)) return { ok: false, error: 'cant_invite_self' };
    const fresh = users.filter((u) => !ch.members.includes(u));
    if (fresh.length === 0) return { ok: false, error: 'already_in_channel' };
    ch.members.push(...fresh);
    return { ok: true, channel: view(ch) };
  }

  function setText(body: Obj, field: 'topic' | 'purpose'): Obj {
    const ch = byId(body.channel);
    if (!ch) return { ok: false, error: 'channel_not_found' };
    const value = str(body[field]);
    if (value.length > MAX_TOPIC) return { ok: false, error: 'too_long' };
    if (field === 'topic') {
      ch.topic = value;
      ch.topics.push(value);
    } else ch.purpose = value;
    return { ok: true, channel: view(ch) };
  }

  function list(body: Obj): Obj {
    const limit = Math.min(1000, Number(body.limit ?? 100) || 100);
    const offset = Number(body.cursor ?? 0) || 0;
    const page = channels.slice(offset, offset + limit);
    const more = offset + limit < channels.length;
    return { ok: true, channels: page.map(view), response_metadata: { next_cursor: more ? String(offset + limit) : '' } };
  }

  const view = (c: StandInChannel) => ({
    id: c.id,
    name: c.name,
    is_channel: true,
    is_private: false,
    created: c.created,
    creator: c.creator,
    topic: { value: c.topic },
    purpose: { value: c.purpose },
    num_members: c.members.length,
  });

  const methods: Record<string, (body: Obj) => Obj> = {
    'conversations.create': create,
    'conversations.invite': invite,
    'conversations.setTopic': (b) => setText(b, 'topic'),
    'conversations.setPurpose': (b) => setText(b, 'purpose'),
    'conversations.list': list,
  };

  return {
    channels,
    add: (name, purpose) => make(name, 'U0SOMEONE', purpose),
    handles: (method) => Object.hasOwn(methods, method),
    answer: (method, body) => (methods[method] as (b: Obj) => Obj)(body),
    reset() {
      channels.length = 0;
      next = 1;
    },
  };
}
