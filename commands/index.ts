import type { Command } from '../src/core/command.ts';
import health from './health.ts';
import queue from './queue.ts';
import slowqueries from './slowqueries.ts';

/**
 * The explicit registry: every command Vigil answers, in the order `/vigil help` lists them. The
 * Slack manifest is generated from this list, so adding a command here is the whole job.
 */
export const commands: readonly Command[] = [health, queue, slowqueries];
