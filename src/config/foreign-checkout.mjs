// Plain JavaScript (typed by foreign-checkout.d.mts): the build launcher runs it before anything is
// compiled, and the bot and CLI import the same file.
import { readFileSync, statSync } from 'node:fs';

/**
 * Why root must not run Vigil in `dirs` (the checkout, the working directory), or null when it may.
 * Root-owned dist/ and .vigil/ (the embedded PostgreSQL's files even belong to `postgres`) in an
 * ordinary user's checkout leave that user unable to start Vigil again or to delete them.
 */
export function foreignCheckoutProblem(dirs, uid = process.getuid?.()) {
  if (uid !== 0) return null;
  for (const dir of dirs) {
    const owner = ownerOf(dir);
    if (owner === null || owner === 0) continue;
    const name = userName(owner) ?? `uid ${owner}`;
    const as = userName(owner) ? `sudo -u ${name}` : `setpriv --reuid ${owner} --regid ${owner} --init-groups`;
    return (
      `Vigil will not run as root in ${dir}: it belongs to ${name} (uid ${owner}), and what Vigil writes there ` +
      `(dist/, .vigil/ with the embedded PostgreSQL) would belong to root, so ${name} could no longer start Vigil or delete those files.\n` +
      `Run it as ${name} instead: ${as} npm start (or ${as} npx vigil …).`
    );
  }
  return null;
}

function ownerOf(dir) {
  try {
    return statSync(dir).uid;
  } catch {
    return null;
  }
}

/** The login name of `uid` from /etc/passwd, if it has one. */
function userName(uid) {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === uid) return name;
    }
  } catch {
    // no passwd file (a minimal container): fall back to the number
  }
  return null;
}
