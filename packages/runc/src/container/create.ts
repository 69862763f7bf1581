import { readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { normaliseCgroupPath, openCgroup, type Cgroup } from '../cgroups/index.js';
import { InvalidArgumentError, errorMessage } from '../errors.js';
import { readMountInfo } from '../mountinfo.js';
import { createPlan } from '../plan/create-plan.js';
import { DEFAULT_DEVICE_RULES } from '../plan/devices.js';
import type { Resources, Spec } from '../spec/types.js';
import { validateId, validateSpec } from '../spec/validate.js';
import type { RuntimeContext } from './context.js';
import { runHooks } from './hooks.js';
import { type Launched, launch } from './launch.js';
import type { ContainerRecord } from './state-store.js';
import { processStat } from './status.js';
import { signalAll, waitForExit } from './wait.js';

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  preserveFds?: number;
  /** run's foreground mode: the helper stays the init's parent and reports its exit. */
  foreground?: boolean;
  /** fds 0, 1, 2 of the container's process (default: this process's). */
  stdio?: [number, number, number];
}

export interface Created {
  record: ContainerRecord;
  launched: Launched;
}

/** Reads and validates `<bundle>/config.json`. */
export function loadSpec(bundle: string): Spec {
  let text: string;
  try {
    text = readFileSync(join(bundle, 'config.json'), 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`cannot read the bundle's config.json: ${errorMessage(err)}`);
  }
  let spec: Spec;
  try {
    spec = JSON.parse(text) as Spec;
  } catch (err) {
    throw new InvalidArgumentError(`${join(bundle, 'config.json')} is not valid JSON: ${errorMessage(err)}`);
  }
  validateSpec(spec);
  return spec;
}

/** Writes a pid file the way runc does: whole or not at all. */
export function writePidFile(path: string, pid: number): void {
  const tmp = join(dirname(path), `.${Date.now()}.pid`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, path);
}

/**
 * Creates a container: its cgroup, its namespaces and root filesystem, and an init that waits
 * on the exec fifo for `start`. On any failure nothing is left behind: no process, cgroup or state.
 */
export async function create(ctx: RuntimeContext, id: string, opts: CreateOptions): Promise<Created> {
  validateId(id);
  const bundle = resolve(opts.bundle);
  const spec = loadSpec(bundle);
  const rootfs = resolveRootfs(bundle, spec.root!.path);
  ctx.store.claim(id);
  let cgroup: Cgroup | undefined;
  let pid = 0;
  try {
    const hostMounts = readMountInfo(); // read once: the cgroup hierarchies and the plan both need it
    cgroup = openCgroup(normaliseCgroupPath(spec.linux?.cgroupsPath, id), hostMounts);
    if (cgroup.pids().length) throw new InvalidArgumentError(`cgroup ${cgroup.path} already holds processes: is another container using it?`);
    cgroup.create(withDefaultDeviceRules(spec.linux?.resources, cgroup.version));
    const execFifo = ctx.store.execFifo(id);
    const plan = createPlan({
      spec,
      bundle,
      rootfs,
      cgroup,
      execFifo,
      foreground: opts.foreground ?? false,
      noPivot: opts.noPivot ?? false,
      ...(opts.consoleSocket ? { consoleSocket: resolve(opts.consoleSocket) } : {}),
      hostMounts,
      warn: (m) => ctx.log.warn(m),
    });
    const preserved = Array.from({ length: opts.preserveFds ?? 0 }, (_, i) => 3 + i);
    const launched = await launch({
      plan,
      fds: [...(opts.stdio ?? [0, 1, 2]), ...preserved],
      onPid: (p) => (pid = p),
      onHooks: async (p) => {
        const state = JSON.stringify({ ociVersion: spec.ociVersion, id, status: 'creating', pid: p, bundle, annotations: spec.annotations ?? {} });
        await runHooks('prestart', spec.hooks?.prestart, state);
        await runHooks('createRuntime', spec.hooks?.createRuntime, state);
        return state;
      },
    });
    pid = launched.pid;
    const record: ContainerRecord = {
      id,
      bundle,
      rootfs,
      pid,
      pidStartTime: processStat(pid)?.startTime ?? 0,
      created: new Date().toISOString(),
      annotations: spec.annotations ?? {},
      cgroupPath: cgroup.path,
      namespaces: spec.linux?.namespaces ?? [],
      process: spec.process!,
      ...(spec.linux?.seccomp ? { seccomp: spec.linux.seccomp } : {}),
      hooks: { poststart: spec.hooks?.poststart ?? [], poststop: spec.hooks?.poststop ?? [] },
      ociVersion: spec.ociVersion,
    };
    ctx.store.save(record);
    if (opts.pidFile) writePidFile(resolve(opts.pidFile), pid);
    ctx.log.debug(`created container ${id} with init pid ${pid}`);
    return { record, launched };
  } catch (err) {
    await undoCreate(ctx, id, pid, cgroup);
    throw err;
  }
}

async function undoCreate(ctx: RuntimeContext, id: string, pid: number, cgroup: Cgroup | undefined): Promise<void> {
  try {
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    if (cgroup) {
      signalAll(cgroup, 9);
      const fake = { pid, pidStartTime: pid ? (processStat(pid)?.startTime ?? -1) : -1 } as ContainerRecord;
      await waitForExit(fake, cgroup, 5000);
      await cgroup.destroy();
    }
  } catch (err) {
    ctx.log.warn(`cleaning up after a failed create of ${id}: ${errorMessage(err)}`);
  } finally {
    ctx.store.remove(id);
  }
}

function resolveRootfs(bundle: string, path: string): string {
  const full = resolve(bundle, path);
  let real: string;
  try {
    real = realpathSync(full);
  } catch {
    throw new InvalidArgumentError(`rootfs ${full} does not exist`);
  }
  if (!statSync(real).isDirectory()) throw new InvalidArgumentError(`rootfs ${full} is not a directory`);
  return real;
}

/** On v1 the spec's device rules are followed by the defaults every container needs, as in runc. */
function withDefaultDeviceRules(resources: Resources | undefined, version: 1 | 2): Resources | undefined {
  if (version !== 1) return resources;
  return { ...resources, devices: [...(resources?.devices ?? []), ...DEFAULT_DEVICE_RULES] };
}
