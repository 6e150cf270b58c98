/**
 * Where the time went: a V8 CPU profile (the JSON node:inspector's Profiler.stop and `--cpu-prof`
 * write) folded into self time per function and per package.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  /** Share of the busy (non-idle) time. */
  share: number;
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  top: SelfTime[];
  byPackage: SelfTime[];
}

/** V8's pseudo-frames that are not JavaScript of anyone's. */
const IDLE = '(idle)';

export async function summarizeProfile(path: string, topN = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // A sample's time is the gap to the next sample (the last one gets the gap to the profile's end).
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  const times = deltas.map((d) => (at += d));
  samples.forEach((id, i) => {
    const next = times[i + 1] ?? profile.endTime;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, next - (times[i] ?? next)));
  });

  const perFunction = new Map<string, { name: string; where: string; us: number }>();
  const perPackage = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const name = frame.functionName || '(anonymous)';
    if (name === IDLE) {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    const entry = perFunction.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    perFunction.set(key, entry);
    const pkg = packageOf(frame.url, name);
    perPackage.set(pkg, (perPackage.get(pkg) ?? 0) + us);
  }
  const share = (us: number) => (busyUs > 0 ? us / busyUs : 0);
  const top = [...perFunction.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((e) => ({ name: e.name, where: e.where, ms: e.us / 1000, share: share(e.us) }));
  const byPackage = [...perPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([name, us]) => ({ name, where: '', ms: us / 1000, share: share(us) }));
  return { busyMs: busyUs / 1000, idleMs: idleUs / 1000, top, byPackage };
}

/** `file:///…/node_modules/@slack/bolt/dist/App.js` → `@slack/bolt/dist/App.js`; Vigil's own → `dist/src/…`. */
function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/** Which package (or Vigil itself, or Node) a frame belongs to. */
function packageOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node (internals)';
  if (url.includes('/dist/')) return 'vigil (dist)';
  return url;
}
