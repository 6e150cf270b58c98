import { createServer } from 'node:net';

/**
 * Ask the kernel for an unused TCP port on 127.0.0.1.
 *
 * There is an unavoidable race between closing our probe socket and the child
 * binding the port; it is tiny in practice and callers surface a clear error
 * if the child fails to start, so we accept it rather than adding retries here.
 */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref(); // never keep the process alive just for a probe
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      // address() is only a string for pipe/unix-socket servers, which this is not.
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      server.close((err) => {
        if (err) reject(err);
        else if (port > 0) resolve(port);
        else reject(new Error('freePort: kernel did not report a port'));
      });
    });
  });
}
