import { writeSync } from 'node:fs';
import type { Command } from 'commander';
import { StateStore } from '../container/state-store.js';
import type { RuntimeContext } from '../container/context.js';
import { InvalidArgumentError } from '../errors.js';
import { type LogFormat, Logger } from '../log.js';

export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: string;
  debug?: boolean;
  systemdCgroup?: boolean;
  rootless?: string;
}

/** The runtime context from the global flags (runc's: --root, --log, --log-format, --debug). */
export function contextOf(cmd: Command): RuntimeContext {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  if (g.logFormat !== 'text' && g.logFormat !== 'json') throw new InvalidArgumentError(`--log-format must be text or json, not ${JSON.stringify(g.logFormat)}`);
  const log = new Logger(g.log, g.logFormat as LogFormat, g.debug ?? false);
  if (g.systemdCgroup) throw new InvalidArgumentError('--systemd-cgroup is not supported: berth-runc drives cgroupfs directly (configure the caller for the cgroupfs driver)');
  if (g.rootless === 'true') throw new InvalidArgumentError('--rootless=true is not supported: berth-runc runs as root');
  return { store: new StateStore(g.root), log };
}

/** Writes to stdout synchronously, leaving the fd's flags alone (see log.ts). */
export function print(text: string): void {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length; ) off += writeSync(1, buf, off);
}

export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2) + '\n');
}

/** Parses a non-negative integer flag. */
export function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a whole number, not ${JSON.stringify(value)}`);
  return Number(value);
}
