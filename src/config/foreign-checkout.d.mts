/** Why root must not run Vigil in one of `dirs` (owned by another user), or null when it may. */
export function foreignCheckoutProblem(dirs: readonly string[], uid?: number): string | null;
