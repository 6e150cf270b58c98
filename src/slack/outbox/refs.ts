import { z } from 'zod';
import { STATE_SCHEMA } from '../../db/migrate.ts';
import type { Queryable } from '../../db/queryable.ts';
import type { MessageRef } from './types.ts';

/**
 * Where posted messages are, by idempotency key (table `vigil.slack_messages`). Written once per
 * message by whichever replica posted it, read by any replica that updates it or replies in its thread.
 */
export interface MessageRefs {
  find(key: string): Promise<MessageRef | null>;
  /** First write wins: a second record for the same key (a re-run after a crash) changes nothing. */
  record(key: string, ref: MessageRef, threadTs: string | undefined): Promise<void>;
  markUpdated(key: string): Promise<void>;
}

const TABLE = `${STATE_SCHEMA}.slack_messages`;
const refRow = z.object({ channel: z.string(), ts: z.string() });

export function createMessageRefs(db: Queryable): MessageRefs {
  return {
    async find(key) {
      const { rows } = await db.query(`SELECT channel, ts FROM ${TABLE} WHERE key = $1`, [key]);
      return rows.length > 0 ? refRow.parse(rows[0]) : null;
    },
    async record(key, ref, threadTs) {
      await db.query(`INSERT INTO ${TABLE} (key, channel, ts, thread_ts) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING`, [
        key,
        ref.channel,
        ref.ts,
        threadTs ?? null,
      ]);
    },
    async markUpdated(key) {
      await db.query(`UPDATE ${TABLE} SET updated_at = now() WHERE key = $1`, [key]);
    },
  };
}

/** Slack's archive link: it opens the message in the workspace the reader is signed in to. */
export function permalink(ref: MessageRef): string {
  return `https://slack.com/archives/${ref.channel}/p${ref.ts.replace('.', '')}`;
}

/** A link to the message posted under `key`, or null while it is not posted. */
export async function messageLink(refs: Pick<MessageRefs, 'find'>, key: string): Promise<string | null> {
  const ref = await refs.find(key);
  return ref ? permalink(ref) : null;
}
