/**
 * A process of its own for the intake bench: Vigil's HTTP server with the real Slack route (header
 * screening, signature check) in front of a receiver that never gets a genuine request, so what
 * the process holds is what unauthenticated clients make it hold. `node-defaults` swaps in Node's
 * own timeouts and no caps (what Vigil had before), to compare. Prints `{"port":…}` when listening.
 */
import { startHttpServer, type IntakeLimits } from '../../src/http/server.ts';
import { EmbeddedHttpReceiver, slackEventsRoute } from '../../src/slack/receiver.ts';

const NODE_DEFAULTS: IntakeLimits = {
  headersTimeoutMs: 60_000,
  requestTimeoutMs: 300_000,
  bodyTimeoutMs: 2_147_000_000,
  maxConnections: Number.POSITIVE_INFINITY,
  maxUnverifiedBodyBytes: Number.POSITIVE_INFINITY,
};

const mode = process.argv[2] === 'node-defaults' ? 'node-defaults' : 'vigil';
const receiver = new EmbeddedHttpReceiver(process.env.BENCH_SIGNING_SECRET ?? 'bench-secret', { rejected: () => undefined, failed: () => undefined });
const server = await startHttpServer(
  { routes: [slackEventsRoute(receiver)], logError: () => undefined, ...(mode === 'node-defaults' ? { limits: NODE_DEFAULTS } : {}) },
  0,
  '127.0.0.1',
);
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
setInterval(() => process.stdout.write(`${JSON.stringify({ unverified: server.unverifiedBodyBytes() })}\n`), 100);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
