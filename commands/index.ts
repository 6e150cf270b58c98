import type { Command, CommandInfo } from '../src/core/command.ts';
import alerts from './alerts.ts';
import { runInfo } from './run.ts';
import audit from './audit.ts';
import health from './health.ts';
import queue from './queue.ts';
import slowqueries from './slowqueries.ts';

/**
 * The explicit registry: every command Vigil answers, in the order `/vigil help` lists them. The
 * Slack manifest is generated from this list, so adding a command here is the whole job.
 */
export const commands: readonly Command[] = [health, queue, slowqueries];

/**
 * Every slash command of every feature, for the Slack manifest and help: the on-call commands
 * above plus those bound by other features (/alerts by the alerts feature, /run by the actions
 * feature, /audit by the audit feature).
 */
export const allCommands: readonly CommandInfo[] = [...commands, alerts, runInfo, audit];
