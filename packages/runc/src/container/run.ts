import { constants } from 'node:os';
import type { RuntimeContext } from './context.js';
import { type CreateOptions, create } from './create.js';
import { deleteContainer } from './delete.js';
import { start } from './start.js';

const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'];

/**
 * create + start. Detached, returns at once; in the foreground, forwards this process's signals
 * to the container, waits for it, deletes it, and returns its status (code, or 128+signal).
 */
export async function run(ctx: RuntimeContext, id: string, opts: CreateOptions & { detach?: boolean; keep?: boolean }): Promise<number> {
  const { record, launched } = await create(ctx, id, { ...opts, foreground: !opts.detach });
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(record.pid, constants.signals[sig]);
    } catch {}
  };
  if (!opts.detach) for (const sig of FORWARDED) process.on(sig, forward);
  try {
    await start(ctx, id);
    if (opts.detach) return 0;
    return await launched.exited;
  } finally {
    for (const sig of FORWARDED) process.off(sig, forward);
    if (!opts.detach && !opts.keep) await deleteContainer(ctx, id, true).catch(() => {});
  }
}
