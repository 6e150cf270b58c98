import { AppError } from './errors.ts';

/** host:port of each dependency, never with credentials: said in every "… is down" answer. */
export interface Endpoints {
  postgres?: string;
  redis?: string;
}

type Dependency = 'Postgres' | 'Redis';

/** Node's socket error codes, in words a person on call understands. */
const NET_WORDS: Record<string, string> = {
  ECONNREFUSED: 'refused the connection (is it running, on that port?)',
  ECONNRESET: 'dropped the connection',
  EPIPE: 'dropped the connection',
  ETIMEDOUT: 'did not answer in time',
  EHOSTUNREACH: 'is unreachable from here',
  ENETUNREACH: 'is unreachable from here',
  ENOTFOUND: 'has a host name that does not resolve',
  EAI_AGAIN: 'has a host name that does not resolve (DNS did not answer)',
};

/** Postgres SQLSTATEs that mean "the server is there but will not serve us". */
const PG_WORDS: Record<string, string> = {
  '28P01': 'refused the password (authentication failed)',
  '28000': 'refused this role (no pg_hba.conf entry or role not allowed to log in)',
  '3D000': 'has no such database',
  '57P01': 'is shutting down',
  '57P02': 'is shutting down',
  '57P03': 'is starting up or shutting down, not accepting connections yet',
  '53300': 'has no free connection slots (too many clients)',
  '57014': 'cancelled the statement (statement timeout)',
};

const REDIS_WORDS: Array<[RegExp, string]> = [
  [/DB index is out of range/i, 'has no such database index (check the /N at the end of REDIS_URL)'],
  [/NOAUTH|WRONGPASS|invalid password|invalid username-password/i, 'refused the credentials (authentication failed)'],
  [/Stream isn't writeable|Connection is closed|enableOfflineQueue/i, 'is not connected (Vigil keeps retrying in the background)'],
  [/Command timed out|Socket timeout/i, 'did not answer in time'],
  [/max retries|MaxRetriesPerRequest/i, 'is not connected (Vigil keeps retrying in the background)'],
  [/LOADING/, 'is loading its dataset, not serving yet'],
  // A script or function past busy-reply-threshold: Redis answers nothing else until it ends.
  [/^BUSY\b/, 'is busy running a script (it answers again when the script ends, or after SCRIPT KILL)'],
];

const PG_LINK_WORDS: Array<[RegExp, string]> = [
  [/timeout exceeded when trying to connect|Connection terminated due to connection timeout/i, 'did not accept a connection in time'],
  [/Query read timeout/i, 'stopped answering (query timed out)'],
  [/Connection terminated/i, 'dropped the connection'],
];

/**
 * A dependency failure as a clear `dependency_unavailable` error: which one, where, and why in
 * words ("Redis at 10.0.0.5:6379 refused the connection"), instead of a driver's message or
 * "something went wrong". Null when the error is not a dependency's (then it is Vigil's own bug).
 */
export function explainDependencyError(err: unknown, where: Endpoints, redisLinkError?: () => Error | undefined): AppError | null {
  let found = classify(err, where);
  if (!found) return null;
  // "Not connected" says little: the error that broke the link says why.
  const link = found.dependency === 'Redis' && found.words.startsWith('is not connected') ? redisLinkError?.() : undefined;
  const cause = link ? classify(link, where) : null;
  if (cause?.dependency === 'Redis') found = cause;
  const at = found.dependency === 'Postgres' ? where.postgres : where.redis;
  return new AppError('dependency_unavailable', `${found.dependency}${at ? ` at ${at}` : ''} ${found.words}.`, undefined, { cause: err });
}

function classify(err: unknown, where: Endpoints): { dependency: Dependency; words: string } | null {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const { code, port } = e as { code?: unknown; port?: unknown };
    const message = e.message;
    if (typeof code === 'string' && Object.hasOwn(PG_WORDS, code)) return { dependency: 'Postgres', words: PG_WORDS[code] as string };
    const redisWords = REDIS_WORDS.find(([pattern]) => pattern.test(message));
    if (redisWords) return { dependency: 'Redis', words: redisWords[1] };
    const pgWords = PG_LINK_WORDS.find(([pattern]) => pattern.test(message));
    if (pgWords) return { dependency: 'Postgres', words: pgWords[1] };
    if (typeof code === 'string' && Object.hasOwn(NET_WORDS, code)) {
      const dependency = dependencyOnPort(port, where);
      if (dependency) return { dependency, words: NET_WORDS[code] as string };
    }
    // AggregateError (Node tries each address of a host name): its first error says it.
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0) return classify(inner[0], where);
  }
  return null;
}

function dependencyOnPort(port: unknown, where: Endpoints): Dependency | null {
  if (typeof port !== 'number') return null;
  const portOf = (hostPort: string | undefined) => (hostPort ? Number(hostPort.slice(hostPort.lastIndexOf(':') + 1)) : NaN);
  if (portOf(where.postgres) === port) return 'Postgres';
  if (portOf(where.redis) === port) return 'Redis';
  return null;
}

/** host:port of a postgres:// or redis:// URL (default ports filled in), without credentials. */
export function endpointOf(url: string | null | undefined, defaultPort: number): string | undefined {
  if (!url || !URL.canParse(url)) return undefined;
  const u = new URL(url);
  const host = u.hostname || (u.searchParams.get('host') ?? 'localhost');
  return `${host}:${u.port || defaultPort}`;
}
