// The shape of Docker's commands over several containers (stop, rm, kill, ...): errors printed as
// they come, exit 1 at the end if any failed. `forEach` goes one by one (start, restart, as
// docker/cli's); `inParallel` runs the calls at once (rm, stop, kill, pause, unpause, as
// docker/cli's parallelOperation) and prints each result in argument order.
import type { Ctx } from '../lib/context.js';
import { ExitError, describe } from '../lib/errors.js';

export async function forEach(ctx: Ctx, names: string[], fn: (name: string) => Promise<void>, summary?: (failed: string[]) => string): Promise<void> {
  const failed: string[] = [];
  for (const n of names) {
    try {
      await fn(n);
    } catch (e) {
      failed.push(n);
      process.stderr.write(`${describe(e, ctx.host())}\n`);
    }
  }
  if (failed.length) throw new ExitError(1, summary ? summary(failed) : '');
}

/** docker/cli's bound on calls in flight at once. */
export const PARALLEL_LIMIT = 50;

/**
 * Runs `op` for every name, at most `limit` at a time; as each one (in argument order) is done,
 * prints its name on stdout or its error on stderr. Exit 1 at the end if any failed.
 */
export async function inParallel(ctx: Ctx, names: string[], op: (name: string) => Promise<unknown>, limit = PARALLEL_LIMIT): Promise<void> {
  const results = runLimited(names, op, limit);
  let failed = 0;
  for (let i = 0; i < names.length; i++) {
    const r = await results[i]!;
    if (r.ok) process.stdout.write(`${names[i]}\n`);
    else {
      failed++;
      process.stderr.write(`${describe(r.error, ctx.host())}\n`);
    }
  }
  if (failed) throw new ExitError(1);
}

export type Settled = { ok: true } | { ok: false; error: unknown };

/** Starts op(item) for each item with at most `limit` pending; one settled promise per item, in order. */
export function runLimited<T>(items: T[], op: (item: T) => Promise<unknown>, limit: number): Promise<Settled>[] {
  const resolvers: ((s: Settled) => void)[] = [];
  const results = items.map(() => new Promise<Settled>((r) => resolvers.push(r)));
  let next = 0;
  const launch = (): void => {
    const i = next++;
    if (i >= items.length) return;
    let p: Promise<unknown>;
    try {
      p = op(items[i]!);
    } catch (error) {
      p = Promise.reject(error);
    }
    p.then(() => ({ ok: true }) as const, (error: unknown) => ({ ok: false, error }) as const).then((s) => {
      resolvers[i]!(s);
      launch();
    });
  };
  for (let k = 0; k < Math.max(1, limit); k++) launch();
  return results;
}
