// berth.engine.v1.System: info, version, events, ping.
import { readFileSync, existsSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import type * as grpc from '@grpc/grpc-js';
import type { EventsRequest, SystemServer } from '@berth/api/berth/engine/v1';
import type { EventRecord } from '../store/db.js';
import type { Engine } from '../engine.js';

/** docker info's Warnings: the one note about networking until bridge networks exist. */
export const DEFAULT_NETWORK_NOTE = 'No bridge network yet: a container without --network gets a private network namespace with loopback only (--network host shares the host\'s)';
import { fail, big, unary } from './handler.js';
import { InvalidArgumentError } from '@berth/api/errdefs';

export interface SystemInfo {
  root: string;
  state: string;
  version: string;
  containerdAddress: string;
  initBinary: string;
  containerdVersion: () => Promise<string>;
}

const osName = (): string => {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
};

function eventMatches(e: EventRecord, filters: { key?: string | null; values?: string[] | null }[]): boolean {
  for (const f of filters) {
    const v = f.values ?? [];
    if (!v.length) continue;
    const ok = v.some((x) => {
      switch (f.key) {
        case 'type': return e.type === x;
        case 'event': return e.action === x || e.action.startsWith(`${x}:`);
        case 'container': return e.type === 'container' && (e.id.startsWith(x) || e.attributes.name === x);
        case 'image': return e.attributes.image === x || e.id === x || e.attributes.name === x;
        case 'label': { const [k, val] = x.split('=', 2) as [string, string?]; return k in e.attributes && (val === undefined || e.attributes[k] === val); }
        default: throw new InvalidArgumentError(`invalid filter '${f.key}'`);
      }
    });
    if (!ok) return false;
  }
  return true;
}

export function systemService(engine: Engine, info: SystemInfo): SystemServer {
  return {
    info: unary(() => {
      const list = engine.list();
      const count = (s: string): number => list.filter((c) => c.State.Status === s).length;
      const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
      return {
        id: engine.store.getMeta('boot_id') ?? '', name: hostname(), containers: list.length, containersRunning: count('running'),
        containersPaused: count('paused'), containersStopped: list.length - count('running') - count('paused'), images: engine.images.list().length,
        driver: 'overlay', serverVersion: info.version, kernelVersion: release(), operatingSystem: osName(), osType: 'linux',
        architecture: process.arch === 'x64' ? 'x86_64' : process.arch, ncpu: cpus().length, memTotal: totalmem(), rootDir: info.root,
        stateDir: info.state, cgroupDriver: 'cgroupfs', cgroupVersion: v2 ? '2' : '1', defaultRuntime: 'berth-runc',
        runtimes: ['berth-runc', 'runc'], securityOptions: ['name=seccomp,profile=builtin'], loggingDriver: 'json-file',
        containerdAddress: info.containerdAddress, initBinary: info.initBinary, warnings: [DEFAULT_NETWORK_NOTE],
      };
    }),
    version: unary(async () => ({
      version: info.version, apiVersion: 'berth.engine.v1', gitCommit: '', nodeVersion: process.version, os: 'linux', arch: process.arch,
      kernelVersion: release(),
      components: [
        { name: 'berthd', version: info.version, details: {} as Record<string, string> },
        { name: 'berth-containerd', version: await info.containerdVersion().catch(() => 'unavailable'), details: { address: info.containerdAddress } },
      ],
    })),
    events: (call: grpc.ServerWritableStream<EventsRequest, unknown>) => {
      try {
        const r = call.request;
        const since = big(r.sinceNs);
        const until = big(r.untilNs);
        const send = (e: EventRecord): boolean => {
          if (until && e.timeNs >= until) return false;
          if (eventMatches(e, r.filters)) {
            call.write({ type: e.type, action: e.action, actor: { id: e.id, attributes: e.attributes }, scope: 'local', timeNs: e.timeNs.toString() });
          }
          return true;
        };
        let last = 0;
        if (since) {
          for (const e of engine.eventsSince(since)) {
            last = e.seq;
            if (!send(e)) return call.end();
          }
        }
        if (until && until <= BigInt(Date.now()) * 1_000_000n) return call.end();
        const on = (e: EventRecord): void => {
          if (e.seq <= last) return;
          if (!send(e)) stop();
        };
        const timer = until ? setTimeout(() => stop(), Number((until - BigInt(Date.now()) * 1_000_000n) / 1_000_000n)) : undefined;
        const stop = (): void => {
          engine.events.off('event', on);
          if (timer) clearTimeout(timer);
          call.end();
        };
        engine.events.on('event', on);
        call.on('cancelled', () => { engine.events.off('event', on); if (timer) clearTimeout(timer); });
      } catch (e) {
        fail(call, e);
      }
    },
    ping: unary(() => ({ apiVersion: 'berth.engine.v1', osType: 'linux' })),
  };
}
