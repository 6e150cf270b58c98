import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * The WebSocket side of Slack's Socket Mode, on loopback: greets each connection with `hello`,
 * delivers envelopes, and hands back what the app acked for each one.
 */
export interface SocketModeServer {
  url: string;
  connected(): Promise<void>;
  /** Deliver a slash command; resolves with the ack's payload (what Slack would show). */
  sendSlashCommand(payload: Record<string, string>, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startSocketModeServer(): Promise<SocketModeServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as AddressInfo).port;
  const acks = new Map<string, (payload: Record<string, unknown>) => void>();
  let socket: WebSocket | null = null;
  let onConnect: (() => void) | null = null;

  wss.on('connection', (ws) => {
    socket = ws;
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0VIGIL' } }));
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { envelope_id?: string; payload?: Record<string, unknown> };
      if (message.envelope_id) acks.get(message.envelope_id)?.(message.payload ?? {});
    });
    onConnect?.();
  });

  return {
    url: `ws://127.0.0.1:${port}/link`,
    connected: () => (socket ? Promise.resolve() : new Promise<void>((resolve) => (onConnect = resolve))),
    sendSlashCommand(payload, timeoutMs = 3000) {
      const ws = socket;
      if (!ws) return Promise.reject(new Error('no Socket Mode client connected'));
      const envelopeId = randomUUID();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ack for envelope within ${timeoutMs} ms`)), timeoutMs);
        acks.set(envelopeId, (ack) => {
          clearTimeout(timer);
          resolve(ack);
        });
        ws.send(JSON.stringify({ envelope_id: envelopeId, type: 'slash_commands', accepts_response_payload: true, payload }));
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}
