import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keyspaceOf, parseRedisInfo, redisFacts, redisValues, replicasOf } from '../../../src/probes/redis-info.ts';
import { assess } from '../../../src/probes/thresholds.ts';
import { REDIS_RULES } from '../../../src/probes/redis-probe.ts';

/**
 * INFO as Redis 7.0 wrote it (captured from a master with one replica attaching, and from that
 * replica: test/fixtures/redis), turned into the numbers rules compare and the facts people read.
 */
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/redis/${name}`, import.meta.url), 'utf8');
const MASTER = fixture('info-master.txt');
const REPLICA = fixture('info-replica.txt');
// Far from Redis's own clock, so a test sees which clock an age was taken by.
const ELSEWHERE_MS = Date.UTC(2000, 0, 1);

describe('INFO, from a master', () => {
  const info = parseRedisInfo(MASTER);

  it('reads memory, evictions, clients and traffic', () => {
    expect(redisValues(info, ELSEWHERE_MS)).toMatchObject({
      memory_used_bytes: 1088056,
      memory_max_bytes: 0,
      memory_peak_bytes: 1106120,
      memory_rss_bytes: 12414976,
      memory_fragmentation_ratio: 11.85,
      memory_fragmentation_bytes: 11367552,
      can_evict: 0,
      evicted_keys: 0,
      clients: 1,
      blocked_clients: 0,
      ops_per_sec: 0,
    });
  });

  it('computes the hit ratio as hits / (hits + misses), and counts keys over every database', () => {
    const v = redisValues(info, ELSEWHERE_MS);
    expect([v.keyspace_hits, v.keyspace_misses]).toEqual([1, 2]);
    expect(v.keyspace_hit_ratio).toBeCloseTo(1 / 3, 10);
    expect(v.keys).toBe(3);
    expect(keyspaceOf(info)).toEqual([
      { db: 0, keys: 2, expires: 1, avgTtlMs: 3598469 },
      { db: 3, keys: 1, expires: 0, avgTtlMs: 0 },
    ]);
  });

  it('ages the last save by Redis’s clock (server_time_usec), not the caller’s', () => {
    // server_time_usec 1796578476.43 s, rdb_last_save_time 1796578472.
    expect(redisValues(info, ELSEWHERE_MS).rdb_last_save_age_seconds).toBe(4);
    const withoutServerTime = new Map(info);
    withoutServerTime.delete('server_time_usec');
    expect(redisValues(withoutServerTime, 1796578472_000 + 90_000).rdb_last_save_age_seconds).toBe(90);
  });

  it('reads persistence and replication as flags and facts', () => {
    expect(redisValues(info, ELSEWHERE_MS)).toMatchObject({
      rdb_changes_since_last_save: 3,
      rdb_last_bgsave_failed: 0,
      aof_enabled: 0,
      aof_last_write_failed: 0,
      connected_replicas: 1,
      is_replica: 0,
      uptime_seconds: 4,
    });
    const v = redisValues(info, ELSEWHERE_MS);
    expect(v.master_link_down).toBeUndefined();
    expect(redisFacts(info)).toEqual({
      version: '7.0.15',
      eviction_policy: 'noeviction',
      role: 'master',
      rdb_last_bgsave_status: 'ok',
      aof_last_write_status: 'ok',
    });
    expect(replicasOf(info)).toEqual([{ address: '127.0.0.1:16392', state: 'wait_bgsave', lagSeconds: 0 }]);
  });

  it('is ok under REDIS_RULES: a 12× fragmentation of a 1 MiB dataset is noise', () => {
    expect(assess({ values: redisValues(info, ELSEWHERE_MS), facts: redisFacts(info) }, REDIS_RULES)).toEqual({ status: 'ok', breaches: [] });
  });

  it('leaves out what INFO did not say instead of reporting 0 or NaN', () => {
    const v = redisValues(parseRedisInfo('redis_version:7.2.4\r\nused_memory:abc\r\nkeyspace_hits:0\r\nkeyspace_misses:0\r\n'), ELSEWHERE_MS);
    expect(v.memory_used_bytes).toBeUndefined();
    expect(v.keyspace_hit_ratio).toBeUndefined();
    expect(v.rdb_last_save_age_seconds).toBeUndefined();
    expect(v.rdb_last_bgsave_failed).toBeUndefined();
    expect(v.is_replica).toBeUndefined();
  });
});

describe('INFO, from a replica', () => {
  const info = parseRedisInfo(REPLICA);

  it('says it is a replica, of which master, and that the link is down', () => {
    const v = redisValues(info, ELSEWHERE_MS);
    expect(v).toMatchObject({ is_replica: 1, master_link_down: 1, connected_replicas: 0 });
    // master_last_io_seconds_ago -1: never heard from its master.
    expect(v.master_last_io_seconds).toBeUndefined();
    expect(redisFacts(info)).toMatchObject({ role: 'replica', master: '127.0.0.1:16391', master_link_status: 'down' });
  });

  it('warns while the link is down, naming the master; an up link with its last I/O age is ok', () => {
    const down = assess({ values: redisValues(info, ELSEWHERE_MS), facts: redisFacts(info) }, REDIS_RULES);
    expect(down.breaches).toEqual([{ measure: 'master_link_down', status: 'warn', reason: 'replica cut off from its master 127.0.0.1:16391 (link down)' }]);
    const up = parseRedisInfo(REPLICA.replace('master_link_status:down', 'master_link_status:up').replace('master_last_io_seconds_ago:-1', 'master_last_io_seconds_ago:2'));
    expect(redisValues(up, ELSEWHERE_MS)).toMatchObject({ master_link_down: 0, master_last_io_seconds: 2 });
    expect(assess({ values: redisValues(up, ELSEWHERE_MS), facts: redisFacts(up) }, REDIS_RULES).status).toBe('ok');
  });
});

describe('REDIS_RULES on what INFO reports going wrong', () => {
  const judged = (patch: (text: string) => string) => {
    const info = parseRedisInfo(patch(MASTER));
    return assess({ values: redisValues(info, ELSEWHERE_MS), facts: redisFacts(info) }, REDIS_RULES);
  };

  it('warns on a failed RDB save and on a failed AOF write, saying what Redis does then', () => {
    expect(judged((t) => t.replace('rdb_last_bgsave_status:ok', 'rdb_last_bgsave_status:err')).breaches).toEqual([
      { measure: 'rdb_last_bgsave_failed', status: 'warn', reason: 'the last RDB save failed (err): Redis may refuse writes' },
    ]);
    expect(judged((t) => t.replace('aof_enabled:0', 'aof_enabled:1').replace('aof_last_write_status:ok', 'aof_last_write_status:err')).breaches).toEqual([
      { measure: 'aof_last_write_failed', status: 'warn', reason: 'the last AOF write failed (err): Redis refuses writes until one succeeds' },
    ]);
  });

  it('warns on fragmentation only once it wastes at least 100 MiB', () => {
    const wasted = (bytes: number) => (t: string) => t.replace('mem_fragmentation_ratio:11.85', 'mem_fragmentation_ratio:1.62').replace('mem_fragmentation_bytes:11367552', `mem_fragmentation_bytes:${bytes}`);
    expect(judged(wasted(100 * 1024 * 1024 - 1)).status).toBe('ok');
    expect(judged(wasted(100 * 1024 * 1024)).breaches).toEqual([{ measure: 'memory_fragmentation_ratio', status: 'warn', reason: 'fragmentation ratio 1.62 ≥ 1.5' }]);
  });
});
