import { readFileSync } from 'node:fs';

/** The unprivileged user exec actions run as when Vigil itself runs as root. */
export interface RunAs {
  user: string;
  uid: number;
  gid: number;
}

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}\$?$/;

/**
 * Who exec actions run as. As root: `name` (default `nobody`) from /etc/passwd, so an action's
 * child cannot read Vigil's environment (`/proc/<pid>/environ` is readable by its owner only) or
 * its files; `root` keeps the old behaviour, on purpose. Not root: Vigil's own user (null), since
 * only root may switch. A name that is not there is an error: actions are then refused rather than
 * run as root.
 */
export function resolveRunAs(name: string, uid: number | undefined = process.getuid?.(), passwd = '/etc/passwd'): { runAs: RunAs | null } | { error: string } {
  if (uid !== 0 || name === 'root') return { runAs: null };
  if (!USER_NAME.test(name)) return { error: `actions.runAs "${name}" is not a user name` };
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return { error: `actions.runAs: cannot read ${passwd} to find user "${name}"` };
  }
  for (const line of text.split('\n')) {
    const [user, , uidText, gidText] = line.split(':');
    if (user !== name) continue;
    const [u, g] = [Number(uidText), Number(gidText)];
    if (!Number.isInteger(u) || !Number.isInteger(g)) break;
    return { runAs: { user: name, uid: u, gid: g } };
  }
  return { error: `actions.runAs: there is no user "${name}" in ${passwd}; exec actions are refused rather than run as root` };
}
