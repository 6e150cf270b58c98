import { connect, createServer, type Socket } from 'node:net';

export interface FreezableProxy {
  port: number;
  /** From now on, swallow everything in both directions: a server that is up but never answers. */
  freeze(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy to `target` on 127.0.0.1 that can be frozen. Clients complete their handshake through
 * it, then it goes silent: the hung-dependency case timeouts exist for, without any mock.
 */
export async function startFreezableProxy(target: { host: string; port: number }): Promise<FreezableProxy> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  };
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    track(client);
    track(upstream);
    client.on('data', (chunk) => {
      if (!frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!frozen) client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  // address() is only a string for pipe servers, which this is not.
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    freeze() {
      frozen = true;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
