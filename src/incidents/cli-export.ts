import { once } from 'node:events';
import { z } from 'zod';
import type { Config } from '../config/load.ts';
import { createContainer } from '../container.ts';
import { parseCommandArgs } from '../core/args.ts';
import { describeError, isAppError } from '../core/errors.ts';
import { EXIT } from '../core/exit-codes.ts';
import type { Logger } from '../log.ts';
import { loadIncident } from './store.ts';
import { loadIncidentRecord } from './timeline-source.ts';
import { writeupJson, writeupMarkdown } from './writeup.ts';

type ExportArgs = { id: number; format: 'md' | 'json' };

/** `vigil incident export`, as `vigil --help` lists it and the CLI runs it. */
export const INCIDENT_EXPORT = {
  usage: 'vigil incident export <id> --format md|json',
  summary: "Write an incident's write-up (timeline, time to acknowledge and resolve, who took part, the audit event range it was built from, a post-mortem skeleton) to stdout",
  options: { format: { type: 'string' } },
  args: z
    .object({
      format: z.enum(['md', 'json'], 'must be md or json'),
      positionals: z.array(z.string()).length(1, 'takes one incident number'),
    })
    .transform(({ format, positionals }, ctx): ExportArgs => {
      const id = Number(positionals[0]);
      if (!Number.isSafeInteger(id) || id < 1) {
        ctx.addIssue({ code: 'custom', path: ['positionals'], message: `"${positionals[0]}" is not an incident number` });
        return z.NEVER;
      }
      return { id, format };
    }),
} as const;

/**
 * Built from the same records as the write-up posted in Slack (the audit trail and the alert
 * tables), so it is the same document; for a resolved incident it ends with the resolution.
 * Only Vigil's state database is read.
 */
export async function runIncidentExport(argv: string[], config: Config, log: Logger): Promise<number> {
  let args: ExportArgs;
  try {
    args = parseCommandArgs<ExportArgs>(argv, INCIDENT_EXPORT.options, INCIDENT_EXPORT.args);
  } catch (err) {
    if (!isAppError(err)) throw err;
    process.stderr.write(`vigil incident export: ${err.userMessage}\nusage: ${INCIDENT_EXPORT.usage}\n`);
    return EXIT.USAGE;
  }
  const container = await createContainer(config, { log, announce: (line) => log.debug(line), embedded: false, role: 'cli', features: [] });
  try {
    const state = await container.infra.state.ready();
    if (state.kind !== 'ready') {
      process.stderr.write(`vigil incident export: Vigil's state database is not available: ${state.why}\n`);
      return EXIT.FAILED;
    }
    const incident = await loadIncident(state.pool, args.id);
    if (!incident) {
      process.stderr.write(`vigil incident export: Vigil knows no incident ${args.id}\n`);
      return EXIT.FAILED;
    }
    const record = await loadIncidentRecord(state.pool, incident);
    const text = args.format === 'md' ? writeupMarkdown(record) : `${JSON.stringify(writeupJson(record), null, 2)}\n`;
    if (!process.stdout.write(text)) await once(process.stdout, 'drain');
    return EXIT.OK;
  } catch (err) {
    process.stderr.write(`vigil incident export: ${describeError(err)}\n`);
    return EXIT.FAILED;
  } finally {
    await container.close();
  }
}
