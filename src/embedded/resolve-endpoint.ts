import { redactUrl } from '../core/redact.ts';
import { OwnedElsewhereError } from './ownership.ts';

export interface ResolveOptions {
  /** Start an embedded server when no URL is configured (the bot and CLI do; tests don't). */
  embedded: boolean;
  announce: (line: string) => void;
  /** Where an embedded server's stop goes, for the container to run at close. */
  stops: Array<() => Promise<void>>;
}

export interface EndpointSpec {
  label: 'Postgres' | 'Redis';
  envName: 'DATABASE_URL' | 'REDIS_URL';
  configured: string | undefined;
  /** `notice`: said once, e.g. that a crashed Vigil's leftover server was stopped first. */
  startEmbedded: () => Promise<{ url: string; stop(): Promise<void>; notice?: string }>;
  /** The start-up line once the embedded server runs. */
  embeddedLine: (url: string) => string;
  /** Why it is missing when the embedded server could not start (shown by /health). */
  unavailable: (err: unknown) => string;
}

/**
 * The URL to use for one dependency: the configured one, else an embedded server (the bot; the
 * CLI borrows the bot's instead, see borrow.ts), else none and why. Announces the choice in one line.
 *
 * An embedded server that fails to start leaves the bot running without it (and /health says
 * why), except when another running Vigil owns it: a second bot on one data directory stops here.
 */
export async function resolveEndpoint(spec: EndpointSpec, opts: ResolveOptions): Promise<{ url: string } | { missing: string }> {
  if (spec.configured) {
    opts.announce(`${spec.label}: ${spec.envName} ${redactUrl(spec.configured)}`);
    return { url: spec.configured };
  }
  if (!opts.embedded) {
    opts.announce(`${spec.label}: not configured (set ${spec.envName})`);
    return { missing: `${spec.envName} is not set` };
  }
  try {
    const embedded = await spec.startEmbedded();
    opts.stops.push(embedded.stop);
    if (embedded.notice) opts.announce(`${spec.label}: ${embedded.notice}`);
    opts.announce(`${spec.label}: ${spec.embeddedLine(embedded.url)}`);
    return { url: embedded.url };
  } catch (err) {
    if (err instanceof OwnedElsewhereError) {
      throw new Error(
        `${err.message}. Only one Vigil bot may run per directory: stop that one (kill ${err.owner.pid}), ` +
          `start this one from another directory, or set ${spec.envName}.`,
      );
    }
    const missing = spec.unavailable(err);
    opts.announce(`${spec.label}: unavailable: ${missing}`);
    return { missing };
  }
}
