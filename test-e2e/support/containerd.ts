// Shared pieces for the berth-containerd e2e suites (031 and later): a leak-checked daemon per
// test that removes its tasks and containers after the test, tasks made through the gRPC API on
// any runtime, and the proof of which runtime made a container. The daemon itself, its API
// clients and the spec come from 030-containerd-support.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { Containerd, prerequisites, spec } from '../030-containerd-support.js';
import { tempRoots, testRootfs, useLeakCheck } from './index.js';

/** berth.tasks.v1 process status values. */
export const RUNNING = 2;
export const STOPPED = 3;

/** Prints `line N` every 10 ms, for ever. */
export const COUNTER = ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.01; done'];

/**
 * Leak-checks every test of the enclosing describe and returns a maker of fresh daemons (fresh
 * temp roots each). After each test, before the leak check, every task is deleted with force,
 * every container removed and the daemon stopped; a daemon left killed is started for that.
 */
export function useContainerd(): () => Containerd {
  useLeakCheck({ settleMs: 3000 });
  const made: Containerd[] = [];
  // Registered after the leak check, so it runs first: a failed test still removes its tasks.
  afterEach(async () => {
    for (const d of made.splice(0)) {
      try {
        if (!d.proc || d.proc.exitCode !== null || d.proc.signalCode !== null) await d.start();
        const list = await d.call('tasks', 'list', {});
        for (const t of list.tasks) await d.call('tasks', 'delete', { containerId: t.containerId, force: true }).catch(() => undefined);
        const cs = await d.call('containers', 'list', {});
        for (const c of cs.containers) await d.call('containers', 'delete', { id: c.id }).catch(() => undefined);
      } finally {
        await d.stop();
      }
    }
  });
  return () => {
    prerequisites();
    const d = new Containerd(tempRoots());
    made.push(d);
    return d;
  };
}

export interface TaskOptions {
  /** 'berth-runc' (default) or the path of a runc-compatible binary. */
  runtime?: string;
  terminal?: boolean;
  stdin?: boolean;
  mounts?: object[];
  memoryLimit?: number;
}

/** Containers.Create, Tasks.Create, Tasks.Start on the shared test rootfs; returns the init's pid. */
export async function runTask(d: Containerd, id: string, args: string[], o: TaskOptions = {}): Promise<number> {
  const runtime = !o.runtime || o.runtime === 'berth-runc' ? { name: 'berth-runc' } : { name: o.runtime.slice(o.runtime.lastIndexOf('/') + 1), path: o.runtime };
  await d.call('containers', 'create', { container: { id, runtime, specJson: spec(id, args, o), rootfs: testRootfs() } });
  await d.call('tasks', 'create', { containerId: id, terminal: Boolean(o.terminal), stdin: Boolean(o.stdin || o.terminal), rows: 24, cols: 80 });
  const r = await d.call('tasks', 'start', { containerId: id });
  return r.pid as number;
}

/**
 * Which runtime made the container `id` of the default namespace, from the state that runtime
 * keeps under the shim's `--root` (`<state>/default/<id>/shim/runtime/<id>`): crun writes a
 * `status` file, runc a state.json with `init_process_pid`, berth-runc one with `pidStartTime`.
 */
export function runtimeMark(d: Containerd, id: string, ns = 'default'): string {
  const dir = join(d.roots.state, ns, id, 'shim', 'runtime', id);
  if (!existsSync(dir)) return `none (no ${dir})`;
  const files = readdirSync(dir);
  if (files.includes('status')) return 'crun';
  if (!files.includes('state.json')) return `unknown (${files.join(', ')})`;
  const state = readFileSync(join(dir, 'state.json'), 'utf8');
  return state.includes('"init_process_pid"') ? 'runc' : state.includes('"pidStartTime"') ? 'berth-runc' : 'unknown';
}
