import { AppError } from './errors.ts';

/** The dependency, or a clear `dependency_unavailable` error naming what is missing and why. */
export function requireDep<T>(dep: T | null, what: string, why: string | undefined): T {
  if (dep === null) {
    throw new AppError('dependency_unavailable', `${what} is not available${why ? `: ${why}` : ''}.`);
  }
  return dep;
}
