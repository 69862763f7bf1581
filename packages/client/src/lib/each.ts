// The shape of Docker's commands over several containers (stop, rm, kill, ...): each one in turn,
// errors printed as they come, exit 1 at the end if any failed.
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
