import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * How the link behaves from now on:
 * - `pass`: new connections are forwarded; connections that went silent stay silent (a half-dead
 *   NAT entry does not come back), so a client must drop them to recover;
 * - `refuse`: nothing listens (ECONNREFUSED) and open connections are reset;
 * - `reset`: open connections are reset, new ones are accepted and reset at once;
 * - `silent`: open and new connections swallow everything in both directions, with TCP itself
 *   healthy (keepalive sees nothing wrong): the hung-dependency case timeouts exist for.
 */
export type LinkFault = 'pass' | 'refuse' | 'reset' | 'silent';

export interface FaultProxy {
  port: number;
  /** host:port of the proxy, for building a URL. */
  address: string;
  set(fault: LinkFault): Promise<void>;
  /**
   * Once: the next request containing `text` (e.g. `COMMIT`) reaches the server, and the link is
   * reset when the answer comes back, before the client sees it: the server did the work, the
   * client cannot know. Resolves when that has happened.
   */
  loseReplyTo(text: string): Promise<void>;
  /** Connections currently open through the proxy. */
  open(): number;
  close(): Promise<void>;
}

interface Link {
  client: Socket;
  upstream: Socket;
  silent: boolean;
  /** Reset instead of forwarding the next answer (see loseReplyTo). */
  loseNextReply?: () => void;
}

/**
 * A TCP proxy on 127.0.0.1 in front of `target` (Postgres, Redis) that can refuse, reset or go
 * silent on demand, and with `delayMs` holds every answer that long (a loaded server): real
 * connection faults without mocking any client.
 */
export async function startFaultProxy(target: { host: string; port: number }, opts: { delayMs?: number } = {}): Promise<FaultProxy> {
  const delayMs = opts.delayMs ?? 0;
  let fault: LinkFault = 'pass';
  const links = new Set<Link>();
  let losing: { text: Buffer; lost: () => void } | null = null;
  let server: Server | null = null;
  let port = 0;

  function accept(client: Socket): void {
    client.on('error', () => undefined);
    if (fault === 'reset') return void client.resetAndDestroy();
    const upstream = connect(target.port, target.host);
    upstream.on('error', () => undefined);
    const link: Link = { client, upstream, silent: fault === 'silent' };
    links.add(link);
    client.on('data', (chunk: Buffer) => {
      if (link.silent) return;
      if (losing && chunk.includes(losing.text)) {
        link.loseNextReply = losing.lost;
        losing = null;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (link.silent) return;
      if (link.loseNextReply) {
        const lost = link.loseNextReply;
        link.loseNextReply = undefined;
        client.resetAndDestroy();
        upstream.destroy();
        return lost();
      }
      // Same delay for every chunk: timers of equal length fire in order, so the stream stays intact.
      if (delayMs > 0) setTimeout(() => client.writable && client.write(chunk), delayMs);
      else client.write(chunk);
    });
    const drop = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', drop);
    upstream.on('close', drop);
  }

  async function listen(): Promise<void> {
    const s = createServer(accept);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    const address = s.address();
    // address() is only a string for pipe servers, which this is not.
    port = typeof address === 'object' && address !== null ? address.port : 0;
    server = s;
  }

  async function stopListening(): Promise<void> {
    const s = server;
    server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  function resetAll(): void {
    for (const link of links) {
      link.client.resetAndDestroy();
      link.upstream.destroy();
    }
    links.clear();
  }

  await listen();
  return {
    port,
    address: `127.0.0.1:${port}`,
    async set(next) {
      fault = next;
      if (next === 'silent') for (const link of links) link.silent = true;
      if (next === 'reset' || next === 'refuse') resetAll();
      if (next === 'refuse') await stopListening();
      else if (!server) await listen();
    },
    loseReplyTo(text) {
      return new Promise<void>((resolve) => (losing = { text: Buffer.from(text), lost: resolve }));
    },
    open: () => links.size,
    async close() {
      resetAll();
      await stopListening();
    },
  };
}
