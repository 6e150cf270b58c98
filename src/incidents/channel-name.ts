/** Slack's limit on a channel name. */
export const MAX_CHANNEL_NAME = 80;
// Room kept for a `-NN` suffix when the name is taken.
const SUFFIX_ROOM = 4;

/**
 * The channel an incident is created under: `<prefix>-<yyyymmdd>-<title words>`, as Slack allows
 * names (lower case letters, digits, `-` and `_`, at most 80). The same incident always gets the
 * same name, so creating it again after a crash finds the channel already made. A title with
 * nothing usable in it gives `<prefix>-<yyyymmdd>-<id>`.
 */
export function incidentChannelName(o: { prefix: string; declaredAt: Date; title: string; id: number }): string {
  const day = o.declaredAt.toISOString().slice(0, 10).replaceAll('-', '');
  const head = `${o.prefix}-${day}-`;
  const slug = o.title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const room = MAX_CHANNEL_NAME - SUFFIX_ROOM - head.length;
  const cut = slug.slice(0, room).replace(/-+$/, '');
  return `${head}${cut || String(o.id)}`;
}

/** The name tried on the `attempt`-th go: the name itself, then `-2`, `-3` … while others hold it. */
export function channelNameAttempt(name: string, attempt: number): string {
  return attempt === 0 ? name : `${name}-${attempt + 1}`;
}
