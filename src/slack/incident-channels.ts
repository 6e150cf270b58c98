import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { RichText } from '../core/reply.ts';
import type { Logger } from '../log.ts';
import { clip, richMrkdwn } from './blocks.ts';
import { createSlackClient } from './client.ts';

/**
 * The Slack calls an incident's channel needs, and nothing else: create it, mark it as Vigil's,
 * find it again by name, invite people, set its topic. Every call is safe to repeat (the channel
 * worker retries after a crash): a taken name is reported, not thrown; inviting someone already
 * in the channel counts as done.
 */
export interface IncidentChannels {
  /** `taken`: the name exists (maybe ours, made before a crash: look with findByName). */
  create(name: string): Promise<{ kind: 'created'; id: string } | { kind: 'taken' }>;
  /** A channel by its exact name, with its purpose (where Vigil's marker is), or null. */
  findByName(name: string): Promise<{ id: string; purpose: string } | null>;
  setPurpose(channel: string, purpose: string): Promise<void>;
  setTopic(channel: string, topic: RichText): Promise<void>;
  /**
   * Invite each user; returns who is settled: invited, already in, or refused by Slack for good
   * (a deactivated user: logged, not tried again). A network error or a 5xx throws: tried again.
   */
  invite(channel: string, users: readonly string[]): Promise<string[]>;
}

// Slack: topic and purpose take at most 250 characters.
const MAX_TOPIC = 250;
// conversations.list pages (Tier 2); a workspace of 20 pages of 200 is looked through, no more.
const LIST_PAGE = 200;
const MAX_PAGES = 20;

const created = z.object({ channel: z.object({ id: z.string() }) });
const listed = z.object({
  channels: z.array(z.object({ id: z.string(), name: z.string(), purpose: z.object({ value: z.string() }).partial().optional() })),
  response_metadata: z.object({ next_cursor: z.string().optional() }).optional(),
});

const slackError = (err: unknown): string | null => {
  const data = (err as { data?: { error?: unknown } } | null)?.data;
  return typeof data?.error === 'string' ? data.error : null;
};

export function createIncidentChannels(opts: { token: string; slackApiUrl?: string; log: Logger; client?: WebClient }): IncidentChannels {
  const client = opts.client ?? createSlackClient({ token: opts.token, ...(opts.slackApiUrl ? { slackApiUrl: opts.slackApiUrl } : {}), log: opts.log });
  return {
    async create(name) {
      try {
        return { kind: 'created', id: created.parse(await client.apiCall('conversations.create', { name, is_private: false })).channel.id };
      } catch (err) {
        if (slackError(err) === 'name_taken') return { kind: 'taken' };
        throw err;
      }
    },
    async findByName(name) {
      let cursor = '';
      for (let page = 0; page < MAX_PAGES; page++) {
        const answer = listed.parse(await client.apiCall('conversations.list', { types: 'public_channel', exclude_archived: false, limit: LIST_PAGE, ...(cursor ? { cursor } : {}) }));
        const found = answer.channels.find((c) => c.name === name);
        if (found) return { id: found.id, purpose: found.purpose?.value ?? '' };
        cursor = answer.response_metadata?.next_cursor ?? '';
        if (!cursor) return null;
      }
      return null;
    },
    async setPurpose(channel, purpose) {
      await client.apiCall('conversations.setPurpose', { channel, purpose: purpose.slice(0, MAX_TOPIC) });
    },
    async setTopic(channel, topic) {
      await client.apiCall('conversations.setTopic', { channel, topic: clip(richMrkdwn(topic), MAX_TOPIC) });
    },
    async invite(channel, users) {
      const inside: string[] = [];
      for (const user of users) {
        try {
          await client.apiCall('conversations.invite', { channel, users: user });
          inside.push(user);
        } catch (err) {
          const code = slackError(err);
          if (code === null || code === 'ratelimited' || code === 'internal_error' || code === 'fatal_error') throw err;
          if (code !== 'already_in_channel' && code !== 'cant_invite_self') opts.log.warn({ channel, user, error: code }, 'incidents: Slack would not invite someone to the incident channel; skipped');
          inside.push(user);
        }
      }
      return inside;
    },
  };
}
