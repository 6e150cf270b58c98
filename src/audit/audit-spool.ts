import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from './chain.ts';

/**
 * Audit events that could not reach Postgres for longer than memory allows, kept on local disk in
 * the order they happened until the writer replays them.
 *
 * Layout: one segment per Vigil process, `spool-<pid>-<startedAtMs>-1.jsonl` (one event per line)
 * beside `….offset` holding how many bytes of it are already in Postgres. A segment left by a
 * process that is gone (crashed, or this same pid in an earlier life, as PID 1 in a container is)
 * is adopted on start and replayed before anything newer; while running, Vigil also claims (by
 * renaming it to its own pid) the segments of a process that died since, which happens when
 * replicas share the directory. At shutdown, events still in memory are older than the process's
 * segment: they go to `…-0.jsonl`, replayed before it, as do copies of what waits in memory when
 * Postgres is slow (see the writer). An append is synchronous, so an event that was spooled
 * survives the process dying a moment later.
 *
 * The offset is written after Postgres committed the batch, so a crash between the two replays
 * that batch once more: at-least-once, never lost.
 */
export interface AuditSpool {
  /** Events waiting on disk, oldest segment first. */
  pending(): number;
  /** Bytes on disk, for the bound. */
  bytes(): number;
  append(events: readonly AuditEvent[]): void;
  /** Store events that came before everything this process spooled (the memory queue at shutdown). */
  prepend(events: readonly AuditEvent[]): void;
  /** Up to `max` of the oldest pending events, without consuming them. */
  peek(max: number): AuditEvent[];
  /** The first `count` events returned by the last peek are in Postgres: drop them. */
  consume(count: number): void;
  /**
   * Claim the segments of processes that have died since (a killed replica sharing this
   * directory), to replay after what is already pending; returns how many events they hold.
   */
  adoptOrphans(): number;
}

interface Segment {
  file: string;
  offsetFile: string;
  /** Bytes already written to Postgres. */
  offset: number;
  size: number;
  pending: number;
}

/** Bytes read per peek: events are small (arguments are cut to 2,000 characters). */
const READ_CHUNK = 4 * 1024 * 1024;

export function openAuditSpool(dir: string, deps: { pid?: number; startedAt?: number; isAlive?: (pid: number) => boolean } = {}): AuditSpool {
  const pid = deps.pid ?? process.pid;
  const startedAt = deps.startedAt ?? Date.now();
  const isAlive = deps.isAlive ?? processIsAlive;
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  const own = segmentAt(join(dir, `spool-${pid}-${startedAt}-1.jsonl`));
  const head = segmentAt(join(dir, `spool-${pid}-${startedAt}-0.jsonl`));
  const segments: Segment[] = claimLeftovers(dir, pid, isAlive, 'with-own-pid');
  let peeked: { segment: Segment; ends: number[] } | null = null;

  function current(): Segment | undefined {
    return segments[0];
  }

  return {
    pending: () => segments.reduce((n, s) => n + s.pending, 0),
    bytes: () => segments.reduce((n, s) => n + s.size - s.offset, 0),
    append(events) {
      if (!segments.includes(own)) segments.push(own);
      write(own, events);
    },
    prepend(events) {
      if (!segments.includes(head)) {
        const at = segments.indexOf(own);
        segments.splice(at < 0 ? segments.length : at, 0, head);
      }
      write(head, events);
    },
    peek(max) {
      const segment = current();
      if (!segment) return [];
      const { events, ends } = readLines(segment, max);
      peeked = { segment, ends };
      return events;
    },
    consume(count) {
      if (!peeked || count === 0) return;
      const { segment, ends } = peeked;
      peeked = null;
      const end = ends[Math.min(count, ends.length) - 1];
      if (end === undefined) return;
      segment.offset = end;
      segment.pending -= Math.min(count, ends.length);
      // Nothing left but (in a crashed process's segment) a torn last line: done with it.
      if (segment.pending <= 0 || segment.offset >= segment.size) retire(segment);
      else writeFileSync(segment.offsetFile, String(segment.offset));
    },
    adoptOrphans() {
      const claimed = claimLeftovers(dir, pid, isAlive, 'others-only');
      segments.push(...claimed);
      return claimed.reduce((n, s) => n + s.pending, 0);
    },
  };

  function write(segment: Segment, events: readonly AuditEvent[]): void {
    if (events.length === 0) return;
    const text = events.map((e) => `${JSON.stringify(e)}\n`).join('');
    appendFileSync(segment.file, text, { mode: 0o600 });
    segment.size += Buffer.byteLength(text);
    segment.pending += events.length;
  }

  function retire(segment: Segment): void {
    unlinkSync(segment.file);
    if (existsSync(segment.offsetFile)) unlinkSync(segment.offsetFile);
    segments.splice(segments.indexOf(segment), 1);
    segment.offset = 0;
    segment.size = 0;
    segment.pending = 0;
  }
}

/** Renames a dead process's segment (and its offset) to this process; null if another got it first. */
function claim(dir: string, name: string, claimed: string): string | null {
  const to = join(dir, claimed);
  if (existsSync(to)) return null;
  try {
    renameSync(join(dir, name), to);
  } catch {
    return null; // claimed by another replica a moment ago
  }
  // Lost between the two renames, the offset only makes the next claimant replay from the start:
  // events already written are recognised by their write keys.
  const offset = join(dir, name.replace(/\.jsonl$/, '.offset'));
  if (existsSync(offset)) renameSync(offset, to.replace(/\.jsonl$/, '.offset'));
  return to;
}

function segmentAt(file: string): Segment {
  return { file, offsetFile: file.replace(/\.jsonl$/, '.offset'), offset: 0, size: 0, pending: 0 };
}

/**
 * Segments of processes that are gone (and, at start, of this pid's earlier life), oldest first.
 * Another process's segment is claimed by renaming it to this pid, so when replicas share the
 * directory exactly one of them replays it: the others' renames find it gone.
 */
function claimLeftovers(dir: string, pid: number, isAlive: (pid: number) => boolean, which: 'with-own-pid' | 'others-only'): Segment[] {
  const found: Array<{ segment: Segment; order: [number, number] }> = [];
  for (const name of readdirSync(dir)) {
    // `-<pid>` at the end: claimed from that process (kept, so a claimed name never equals one of this process's own).
    const match = /^spool-(\d+)-(\d+)-([01])(-\d+)?\.jsonl$/.exec(name);
    if (!match) continue;
    const owner = Number(match[1]);
    if (owner === pid ? which === 'others-only' : isAlive(owner)) continue; // a live process's: it replays its own
    const file = owner === pid ? join(dir, name) : claim(dir, name, `spool-${pid}-${match[2]}-${match[3]}-${owner}.jsonl`);
    if (!file) continue;
    const segment = segmentAt(file);
    segment.size = statSync(segment.file).size;
    segment.offset = existsSync(segment.offsetFile) ? Number(readFileSync(segment.offsetFile, 'utf8')) || 0 : 0;
    segment.pending = countLines(segment);
    if (segment.pending === 0) {
      unlinkSync(segment.file);
      if (existsSync(segment.offsetFile)) unlinkSync(segment.offsetFile);
      continue;
    }
    found.push({ segment, order: [Number(match[2]), Number(match[3])] });
  }
  return found.sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1]).map((f) => f.segment);
}

function countLines(segment: Segment): number {
  const text = readFileSync(segment.file).subarray(segment.offset);
  let lines = 0;
  for (const byte of text) if (byte === 0x0a) lines++;
  return lines;
}

/** Complete lines from the segment's offset; a torn last line (a crash mid-append) is skipped. */
function readLines(segment: Segment, max: number): { events: AuditEvent[]; ends: number[] } {
  const fd = openSync(segment.file, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(READ_CHUNK, Math.max(0, segment.size - segment.offset)));
    const read = readSync(fd, buffer, 0, buffer.length, segment.offset);
    const events: AuditEvent[] = [];
    const ends: number[] = [];
    let start = 0;
    while (events.length < max) {
      const newline = buffer.indexOf(0x0a, start);
      if (newline < 0 || newline >= read) break;
      const line = buffer.subarray(start, newline).toString('utf8');
      start = newline + 1;
      const event = parseEvent(line);
      // An unreadable line (torn by a crash) is replaced, so the gap is on record rather than silent.
      events.push(event ?? { actorId: 'vigil', kind: 'audit.spool', subject: 'unreadable', outcome: 'rejected', details: { bytes: line.length } });
      ends.push(segment.offset + start);
    }
    return { events, ends };
  } finally {
    closeSync(fd);
  }
}

function parseEvent(line: string): AuditEvent | null {
  try {
    const value: unknown = JSON.parse(line);
    if (value === null || typeof value !== 'object') return null;
    const e = value as Partial<AuditEvent>;
    return typeof e.actorId === 'string' && typeof e.kind === 'string' && typeof e.subject === 'string' && typeof e.outcome === 'string' ? (e as AuditEvent) : null;
  } catch {
    return null;
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
