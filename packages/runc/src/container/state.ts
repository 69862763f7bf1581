import type { State } from '../spec/types.js';
import { type RuntimeContext, loadContainer, specState } from './context.js';

/** The spec's state plus what runc adds (rootfs, created, owner), which containerd reads. */
export interface RuncState extends State {
  pid: number;
  rootfs: string;
  created: string;
  owner: string;
}

export function state(ctx: RuntimeContext, id: string): RuncState {
  const { record, status } = loadContainer(ctx, id);
  return { ...specState(record, status), pid: status === 'stopped' ? 0 : record.pid, rootfs: record.rootfs, created: record.created, owner: '' };
}

export function list(ctx: RuntimeContext): RuncState[] {
  return ctx.store.list().flatMap((id) => {
    try {
      return [state(ctx, id)];
    } catch {
      return []; // deleted meanwhile
    }
  });
}
