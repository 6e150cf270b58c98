/**
 * Benchmark: what unauthenticated clients can make the HTTP server hold (issue 6, item 6). The
 * server runs in a process of its own (test/bench/intake-server.ts: Vigil's server and Slack route)
 * so its RSS is its own; this process plays the clients over loopback:
 *
 * - 1,000 uploads to /slack/events with plausible Slack headers, each sending 255 KiB of a
 *   256 KiB body and then stalling: the server's RSS growth, how many bytes it buffers unverified,
 *   how the connections end and when the last one does (watched for 20 s at most).
 * - One body trickled at 1 byte/s: how long it holds its connection (20 s at most).
 *
 * Run with Vigil's limits and with Node's defaults (no caps: what Vigil had before).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

const UPLOADS = 1_000;
const DECLARED = 256 * 1024;
const SENT = 255 * 1024;
const WATCH_MS = 20_000;

interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** The server's own count of unverified body bytes, last reported (every 100 ms). */
  unverified(): number;
  peakUnverified(): number;
}

async function startServer(mode: 'vigil' | 'node-defaults'): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/intake-server.ts', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let unverified = 0;
  let peak = 0;
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`intake server exited (${code})`)));
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as { port?: number; unverified?: number };
      if (msg.port !== undefined) resolve(msg.port);
      if (msg.unverified !== undefined) {
        unverified = msg.unverified;
        peak = Math.max(peak, unverified);
      }
    });
  });
  return { child, port, unverified: () => unverified, peakUnverified: () => peak };
}

const rssMb = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function slackHead(bytes: number): string {
  const ts = Math.floor(Date.now() / 1000);
  return `POST /slack/events HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Slack-Request-Timestamp: ${ts}\r\nX-Slack-Signature: v0=${'0'.repeat(64)}\r\nContent-Length: ${bytes}\r\n\r\n`;
}

interface Ending {
  status: string;
  afterMs: number;
}

function stalledUpload(port: number, started: number, endings: Ending[]): Socket {
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (d) => (answer += d.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => endings.push({ status: /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 'closed without answer', afterMs: Date.now() - started }));
  socket.write(slackHead(DECLARED) + 'x'.repeat(SENT));
  return socket;
}

async function stalledUploads(mode: 'vigil' | 'node-defaults'): Promise<void> {
  const server = await startServer(mode);
  const pid = server.child.pid as number;
  await sleep(500);
  const rssBefore = rssMb(pid);
  let rssPeak = rssBefore;
  const started = Date.now();
  const endings: Ending[] = [];
  const sockets = Array.from({ length: UPLOADS }, () => stalledUpload(server.port, started, endings));
  while (endings.length < UPLOADS && Date.now() - started < WATCH_MS) {
    await sleep(250);
    rssPeak = Math.max(rssPeak, rssMb(pid));
  }
  const byStatus = new Map<string, number>();
  for (const e of endings) byStatus.set(e.status, (byStatus.get(e.status) ?? 0) + 1);
  const last = endings.length === UPLOADS ? `all ended, the last after ${(Math.max(...endings.map((e) => e.afterMs)) / 1000).toFixed(1)} s` : `${UPLOADS - endings.length} still open after ${WATCH_MS / 1000} s`;
  console.log(`  ${mode.padEnd(13)} ${UPLOADS} stalled uploads: server RSS +${(rssPeak - rssBefore).toFixed(0)} MB at peak, unverified bytes peak ${(server.peakUnverified() / 1048576).toFixed(1)} MiB; ${last}`);
  console.log(`  ${''.padEnd(13)} endings: ${[...byStatus].map(([s, n]) => `${s} ×${n}`).join(', ') || 'none'}`);
  for (const s of sockets) s.destroy();
  server.child.kill('SIGTERM');
}

async function trickle(mode: 'vigil' | 'node-defaults'): Promise<void> {
  const server = await startServer(mode);
  const started = Date.now();
  const endings: Ending[] = [];
  const socket = connect(server.port, '127.0.0.1');
  socket.on('error', () => undefined);
  let answer = '';
  socket.on('data', (d) => (answer += d.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(slackHead(1000));
  const drip = setInterval(() => socket.writable && socket.write('x'), 1000);
  await Promise.race([closed, sleep(WATCH_MS)]);
  clearInterval(drip);
  endings.push({ status: /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 'no answer', afterMs: Date.now() - started });
  const e = endings[0] as Ending;
  console.log(`  ${mode.padEnd(13)} body trickled at 1 byte/s: ${socket.destroyed ? `cut off after ${(e.afterMs / 1000).toFixed(1)} s (${e.status})` : `still open after ${WATCH_MS / 1000} s`}`);
  socket.destroy();
  server.child.kill('SIGTERM');
}

export async function benchIntake(): Promise<void> {
  console.log('\nIntake limits: what unauthenticated clients can make the server hold (loopback, server in its own process)');
  for (const mode of ['vigil', 'node-defaults'] as const) {
    await stalledUploads(mode);
    await trickle(mode);
  }
}
