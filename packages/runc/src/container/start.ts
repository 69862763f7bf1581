import { closeSync, constants, openSync, rmSync, writeSync } from 'node:fs';
import { FailedPreconditionError, errorMessage } from '../errors.js';
import { type RuntimeContext, loadContainer, specState } from './context.js';
import { runHooks } from './hooks.js';
import { assertAllowed } from './status.js';

/** Releases a created container's init: one byte into the exec fifo it is blocked reading. */
export async function start(ctx: RuntimeContext, id: string): Promise<void> {
  const { record, status } = loadContainer(ctx, id);
  assertAllowed('start', status, id);
  const fifo = ctx.store.execFifo(id);
  let fd: number;
  try {
    // Non-blocking: if the init died there is no reader and open fails (ENXIO) instead of hanging.
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new FailedPreconditionError(`cannot start container ${id}: its init is not waiting (${errorMessage(err)})`);
  }
  try {
    writeSync(fd, Buffer.from([0]));
  } finally {
    closeSync(fd);
  }
  rmSync(fifo, { force: true });
  try {
    await runHooks('poststart', record.hooks.poststart, JSON.stringify(specState(record, 'running')));
  } catch (err) {
    ctx.log.warn(errorMessage(err)); // the spec: a failing poststart hook is logged, the container runs on
  }
}
