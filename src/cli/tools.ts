import { AUDIT_TOOLS, runAuditTool } from '../audit/cli-tools.ts';
import type { Config } from '../config/load.ts';
import { EXIT } from '../core/exit-codes.ts';
import { MIGRATE_TOOL, runMigrateTool } from '../db/migrate-cli.ts';
import { INCIDENT_EXPORT } from '../incidents/cli-export.ts';
import type { Logger } from '../log.ts';

const RUNNER_TOOL = {
  usage: 'vigil runner',
  summary: 'Run approved actions, and nothing else, as a process of its own (with actions.runner: separate): its own OS user and environment, no Slack secrets',
};

/**
 * A CLI-only tool: not a slash command (it has no Slack or shell form), routed by its leading
 * words. `vigil --help` lists this table and the router matches on it, so a tool cannot be
 * reachable without being listed.
 */
export interface CliTool {
  /** The words that select it, matched exactly at the start of the command line. */
  words: readonly string[];
  /** The whole synopsis, starting with `vigil`. */
  usage: string;
  summary: string;
  /**
   * `borrowed`: Vigil's state database, the running bot's embedded one when none is configured
   * (the trail lives there; a fresh one would hold an empty trail). `configured`: only what the
   * env names (`migrate` must never change a database it was not pointed at).
   */
  database: 'borrowed' | 'configured';
  run(rest: readonly string[], config: Config, log: Logger): Promise<number>;
}

export const CLI_TOOLS: readonly CliTool[] = [
  {
    words: ['audit', 'verify'],
    usage: AUDIT_TOOLS.verify.usage,
    summary: AUDIT_TOOLS.verify.summary,
    database: 'borrowed',
    run: (rest, config, log) => runAuditTool('verify', [...rest], config, log),
  },
  {
    words: ['audit', 'export'],
    usage: AUDIT_TOOLS.export.usage,
    summary: AUDIT_TOOLS.export.summary,
    database: 'borrowed',
    run: (rest, config, log) => runAuditTool('export', [...rest], config, log),
  },
  {
    words: ['incident', 'export'],
    usage: INCIDENT_EXPORT.usage,
    summary: INCIDENT_EXPORT.summary,
    database: 'borrowed',
    // Imported when run, like the runner: the rest of the CLI never loads it.
    run: async (rest, config, log) => (await import('../incidents/cli-export.ts')).runIncidentExport([...rest], config, log),
  },
  {
    words: ['runner'],
    usage: RUNNER_TOOL.usage,
    summary: RUNNER_TOOL.summary,
    database: 'borrowed',
    run: async (rest, config, log) => {
      if (rest.length > 0) {
        process.stderr.write(`vigil runner: takes no arguments (got ${rest.join(' ')})\nusage: ${RUNNER_TOOL.usage}\n`);
        return EXIT.USAGE;
      }
      // Imported when run: the rest of the CLI never loads the action pipeline for it.
      return (await import('../actions/runner-process.ts')).runRunner(config, log);
    },
  },
  {
    words: ['migrate'],
    usage: MIGRATE_TOOL.usage,
    summary: MIGRATE_TOOL.summary,
    database: 'configured',
    run: async (rest, config) => {
      // It used to ignore what followed; a typo like `vigil migrate --dry-run` must not migrate.
      if (rest.length > 0) {
        process.stderr.write(`vigil migrate: takes no arguments (got ${rest.join(' ')})\nusage: ${MIGRATE_TOOL.usage}\n`);
        return EXIT.USAGE;
      }
      return runMigrateTool(config, (line) => process.stdout.write(`${line}\n`));
    },
  },
];
