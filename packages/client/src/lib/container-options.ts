// `run` and `create` flags (docker/cli's containerOptions) and their translation to berthd's
// ContainerConfig and HostConfig. Values a user can get wrong are checked here, so the error
// names the flag as Docker's does: invalid argument "x" for "-m, --memory" flag: invalid size: 'x'.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { IContainerConfig, IHostConfig, IResources } from '@berth/api/berth/engine/v1';
import { UsageError } from './api.js';
import { parseGoDuration, ramInBytes } from './units.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export interface ContainerFlags {
  attach?: string[];
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  name?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  hostname?: string;
  domainname?: string;
  label: string[];
  labelFile: string[];
  restart?: string;
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpus?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  ulimit: string[];
  shmSize?: string;
  readOnly?: boolean;
  init?: boolean;
  stopSignal?: string;
  stopTimeout?: string;
  capAdd: string[];
  capDrop: string[];
  privileged?: boolean;
  securityOpt: string[];
  device: string[];
  pid?: string;
  ipc?: string;
  uts?: string;
  logDriver?: string;
  logOpt: string[];
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthStartInterval?: string;
  healthcheck?: boolean;
  network?: string;
  net?: string;
  volume: string[];
  tmpfs: string[];
  dns: string[];
  dnsOption: string[];
  dnsSearch: string[];
  addHost: string[];
  groupAdd: string[];
  sysctl: string[];
  runtime?: string;
  expose: string[];
  oomKillDisable?: boolean;
  sigProxy?: boolean;
  detachKeys?: string;
  pull?: string;
  platform?: string;
}

/** Adds Docker's run/create flags to cmd (run adds -d, --rm's foreground meaning, --sig-proxy, --detach-keys). */
export function addContainerOptions(cmd: Command, run: boolean): Command {
  cmd
    .option('-a, --attach <stream>', 'attach to STDIN, STDOUT or STDERR', collect, [])
    .option('-i, --interactive', 'keep STDIN open even if not attached')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('--rm', 'automatically remove the container when it exits')
    .option('--name <string>', 'assign a name to the container')
    .option('-e, --env <list>', 'set environment variables', collect, [])
    .option('--env-file <list>', 'read in a file of environment variables', collect, [])
    .option('-w, --workdir <string>', 'working directory inside the container')
    .option('-u, --user <string>', 'username or UID (format: <name|uid>[:<group|gid>])')
    .option('--entrypoint <string>', 'overwrite the default ENTRYPOINT of the image')
    .option('-h, --hostname <string>', 'container host name')
    .option('--domainname <string>', 'container NIS domain name')
    .option('-l, --label <list>', 'set meta data on a container', collect, [])
    .option('--label-file <list>', 'read in a line delimited file of labels', collect, [])
    .option('--restart <string>', 'restart policy to apply when a container exits (no, always, unless-stopped, on-failure[:max-retries])')
    .option('-m, --memory <bytes>', 'memory limit')
    .option('--memory-swap <bytes>', "swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--memory-reservation <bytes>', 'memory soft limit')
    .option('--cpus <decimal>', 'number of CPUs')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpu-period <int>', 'limit CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <int>', 'limit CPU CFS (Completely Fair Scheduler) quota')
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('--pids-limit <int>', 'tune container pids limit (set -1 for unlimited)')
    .option('--ulimit <ulimit>', 'ulimit options', collect, [])
    .option('--shm-size <bytes>', 'size of /dev/shm')
    .option('--read-only', "mount the container's root filesystem as read only")
    .option('--init', 'run an init inside the container that forwards signals and reaps processes')
    .option('--stop-signal <string>', 'signal to stop the container')
    .option('--stop-timeout <int>', 'timeout (in seconds) to stop a container')
    .option('--cap-add <list>', 'add Linux capabilities', collect, [])
    .option('--cap-drop <list>', 'drop Linux capabilities', collect, [])
    .option('--privileged', 'give extended privileges to this container')
    .option('--security-opt <list>', 'security options', collect, [])
    .option('--device <list>', 'add a host device to the container', collect, [])
    .option('--pid <string>', 'PID namespace to use')
    .option('--ipc <string>', 'IPC mode to use')
    .option('--uts <string>', 'UTS namespace to use')
    .option('--log-driver <string>', 'logging driver for the container')
    .option('--log-opt <list>', 'log driver options', collect, [])
    .option('--health-cmd <string>', 'command to run to check health')
    .option('--health-interval <duration>', 'time between running the check (ms|s|m|h)')
    .option('--health-timeout <duration>', 'maximum time to allow one check to run (ms|s|m|h)')
    .option('--health-retries <int>', 'consecutive failures needed to report unhealthy')
    .option('--health-start-period <duration>', 'start period for the container to initialize before starting health-retries countdown (ms|s|m|h)')
    .option('--health-start-interval <duration>', 'time between running the check during the start period (ms|s|m|h)')
    .option('--no-healthcheck', 'disable any container-specified HEALTHCHECK')
    .option('--network <network>', 'connect a container to a network (none, host)')
    .addOption(new Option('--net <network>', 'alias of --network').hideHelp())
    .option('-v, --volume <list>', 'bind mount a volume (/host/path:/container/path[:ro])', collect, [])
    .option('--tmpfs <list>', 'mount a tmpfs directory', collect, [])
    .option('--dns <list>', 'set custom DNS servers', collect, [])
    .option('--dns-option <list>', 'set DNS options', collect, [])
    .option('--dns-search <list>', 'set custom DNS search domains', collect, [])
    .option('--add-host <list>', 'add a custom host-to-IP mapping (host:ip)', collect, [])
    .option('--group-add <list>', 'add additional groups to join', collect, [])
    .option('--sysctl <map>', 'sysctl options', collect, [])
    .option('--runtime <string>', 'runtime to use for this container')
    .option('--expose <list>', 'expose a port or a range of ports', collect, [])
    .option('--oom-kill-disable', 'disable OOM Killer')
    .addOption(new Option('--pull <string>', 'pull image before running').choices(['always', 'missing', 'never']))
    .option('--platform <string>', 'set platform if server is multi-platform capable');
  if (run) {
    cmd
      .option('-d, --detach', 'run container in background and print container ID')
      .option('--sig-proxy [bool]', 'proxy received signals to the process (non-TTY only)')
      .option('--detach-keys <string>', 'override the key sequence for detaching a container');
  }
  return cmd.helpOption('--help', 'display help for command');
}

function flagError(flag: string, value: string, why: string): UsageError {
  return new UsageError(`invalid argument "${value}" for "${flag}" flag: ${why}`);
}

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw flagError(flag, v, `strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

function bytes(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (v === '-1' && flag.includes('swap')) return -1;
  try {
    return ramInBytes(v);
  } catch (e) {
    throw flagError(flag, v, (e as Error).message);
  }
}

function durationNs(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  try {
    const ms = parseGoDuration(v);
    if (ms < 0) throw new Error(`${flag} cannot be negative`);
    return Math.round(ms * 1e6);
  } catch (e) {
    throw flagError(flag, v, (e as Error).message);
  }
}

/** KEY=value entries; a bare KEY takes the client's value, or is left out when unset (Docker). */
export function parseEnv(list: string[], files: string[], env = process.env): string[] {
  const out: string[] = [];
  const add = (e: string): void => {
    if (e.includes('=')) {
      if (e.startsWith('=')) throw new UsageError(`invalid environment variable: ${e}`);
      out.push(e);
    } else if (e && env[e] !== undefined) out.push(`${e}=${env[e]}`);
  };
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      throw new UsageError(`open ${f}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    for (const line of text.split(/\r?\n/)) {
      const l = line.replace(/^\s+/, '');
      if (l && !l.startsWith('#')) add(l);
    }
  }
  for (const e of list) add(e);
  return out;
}

function parseLabels(list: string[], files: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = [...files.flatMap((f) => readFileSync(f, 'utf8').split(/\r?\n/).filter((l) => l.trim() && !l.trim().startsWith('#'))), ...list];
  for (const l of lines) {
    const at = l.indexOf('=');
    if (at === 0) throw new UsageError(`invalid label: ${l}`);
    if (at < 0) out[l] = '';
    else out[l.slice(0, at)] = l.slice(at + 1);
  }
  return out;
}

/** Docker's --restart: no | always | unless-stopped | on-failure[:N]; the name is checked by berthd. */
function parseRestart(v: string | undefined): { name: string; maximumRetryCount: number } | undefined {
  if (v === undefined) return undefined;
  const [name = '', count, ...rest] = v.split(':');
  if (rest.length) throw new UsageError(`invalid restart policy format: ${v}`);
  if (count !== undefined) {
    if (!/^\d+$/.test(count)) throw new UsageError(`invalid restart policy format: maximum retry count must be an integer`);
    return { name, maximumRetryCount: Number(count) };
  }
  return { name, maximumRetryCount: 0 };
}

function parseUlimit(v: string): { name: string; soft: number; hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v);
  if (!m) throw flagError('--ulimit', v, `invalid ulimit argument: ${v}`);
  const soft = Number(m[2]);
  return { name: m[1]!, soft, hard: m[3] === undefined ? soft : Number(m[3]) };
}

function parseDevice(v: string): { pathOnHost: string; pathInContainer: string; cgroupPermissions: string } {
  const parts = v.split(':');
  if (parts.length > 3 || !parts[0]) throw flagError('--device', v, `invalid device specification: ${v}`);
  const [host, second, third] = parts as [string, string | undefined, string | undefined];
  let inCtr = host;
  let perms = 'rwm';
  if (third !== undefined) {
    inCtr = second!;
    perms = third;
  } else if (second !== undefined) {
    if (/^[rwm]{1,3}$/.test(second)) perms = second;
    else inCtr = second;
  }
  return { pathOnHost: host, pathInContainer: inCtr, cgroupPermissions: perms };
}

function keyValues(flag: string, list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const at = kv.indexOf('=');
    if (at <= 0) throw flagError(flag, kv, `invalid key=value: ${kv}`);
    out[kv.slice(0, at)] = kv.slice(at + 1);
  }
  return out;
}

export interface ContainerRequest {
  name: string;
  config: IContainerConfig;
  hostConfig: IHostConfig;
}

/** Builds the Create request. `foreground`: run without -d (stdio attached, StdinOnce with -i). */
export function toCreateRequest(o: ContainerFlags, image: string, args: string[], opts: { foreground: boolean; size?: { rows: number; cols: number } }): ContainerRequest {
  const attach = new Set((o.attach ?? []).map((s) => s.toLowerCase()));
  for (const a of attach) if (!['stdin', 'stdout', 'stderr'].includes(a)) throw flagError('-a, --attach', a, `valid streams are STDIN, STDOUT and STDERR`);
  const fg = opts.foreground;
  const config: IContainerConfig = {
    image,
    cmd: args,
    env: parseEnv(o.env, o.envFile),
    labels: parseLabels(o.label, o.labelFile),
    tty: Boolean(o.tty),
    openStdin: Boolean(o.interactive),
    attachStdin: fg && (attach.size ? attach.has('stdin') : Boolean(o.interactive)),
    attachStdout: fg && (attach.size ? attach.has('stdout') : true),
    attachStderr: fg && (attach.size ? attach.has('stderr') : true),
    workingDir: o.workdir ?? '',
    user: o.user ?? '',
    hostname: o.hostname ?? '',
    domainname: o.domainname ?? '',
    stopSignal: o.stopSignal ?? '',
    exposedPorts: o.expose.map((p) => (p.includes('/') ? p : `${p}/tcp`)),
  };
  // As docker: StdinOnce whenever stdin is attached (-i, -it); berthd acts on it only without a
  // TTY (moby: CloseStdin = StdinOnce && !Tty).
  config.stdinOnce = Boolean(config.attachStdin);
  if (o.entrypoint !== undefined) config.entrypoint = { values: o.entrypoint === '' ? [] : [o.entrypoint] };
  const stopTimeout = int('--stop-timeout', o.stopTimeout);
  if (stopTimeout !== undefined) config.stopTimeout = stopTimeout;
  if (o.tty && opts.size) {
    config.consoleRows = opts.size.rows;
    config.consoleCols = opts.size.cols;
  }
  const hc = o.healthCmd !== undefined || o.healthInterval || o.healthTimeout || o.healthRetries || o.healthStartPeriod || o.healthStartInterval;
  if (o.healthcheck === false) {
    if (hc) throw new UsageError('--no-healthcheck conflicts with --health-* options');
    config.healthcheck = { test: ['NONE'] };
  } else if (hc) {
    const retries = int('--health-retries', o.healthRetries) ?? 0;
    if (retries < 0) throw new UsageError('--health-retries cannot be negative');
    config.healthcheck = {
      test: o.healthCmd !== undefined ? ['CMD-SHELL', o.healthCmd] : [],
      intervalNs: durationNs('--health-interval', o.healthInterval) ?? 0,
      timeoutNs: durationNs('--health-timeout', o.healthTimeout) ?? 0,
      startPeriodNs: durationNs('--health-start-period', o.healthStartPeriod) ?? 0,
      startIntervalNs: durationNs('--health-start-interval', o.healthStartInterval) ?? 0,
      retries,
    };
  }

  const resources: IResources = {
    memory: bytes('-m, --memory', o.memory) ?? 0,
    memorySwap: bytes('--memory-swap', o.memorySwap) ?? 0,
    memoryReservation: bytes('--memory-reservation', o.memoryReservation) ?? 0,
    cpuShares: int('-c, --cpu-shares', o.cpuShares) ?? 0,
    cpuPeriod: int('--cpu-period', o.cpuPeriod) ?? 0,
    cpuQuota: int('--cpu-quota', o.cpuQuota) ?? 0,
    cpusetCpus: o.cpusetCpus ?? '',
    cpusetMems: o.cpusetMems ?? '',
    ulimits: o.ulimit.map(parseUlimit),
    devices: o.device.map(parseDevice),
  };
  if (o.cpus !== undefined) {
    const n = Number(o.cpus);
    if (!/^\d*\.?\d+$/.test(o.cpus) || !Number.isFinite(n)) throw flagError('--cpus', o.cpus, `failed to parse ${o.cpus} as a rational number`);
    resources.nanoCpus = Math.round(n * 1e9);
  }
  const pids = int('--pids-limit', o.pidsLimit);
  if (pids !== undefined) resources.pidsLimit = pids;
  if (o.oomKillDisable) resources.oomKillDisable = true;

  const logDriver = o.logDriver ?? '';
  const tmpfs: Record<string, string> = {};
  for (const t of o.tmpfs) {
    const at = t.indexOf(':');
    tmpfs[at < 0 ? t : t.slice(0, at)] = at < 0 ? '' : t.slice(at + 1);
  }
  const hostConfig: IHostConfig = {
    binds: o.volume,
    logConfig: { type: logDriver, config: keyValues('--log-opt', o.logOpt) },
    networkMode: o.network ?? o.net ?? '',
    autoRemove: Boolean(o.rm),
    capAdd: o.capAdd,
    capDrop: o.capDrop,
    dns: o.dns,
    dnsOptions: o.dnsOption,
    dnsSearch: o.dnsSearch,
    extraHosts: o.addHost,
    ipcMode: o.ipc ?? '',
    pidMode: o.pid ?? '',
    utsMode: o.uts ?? '',
    privileged: Boolean(o.privileged),
    readonlyRootfs: Boolean(o.readOnly),
    securityOpt: o.securityOpt,
    tmpfs,
    shmSize: bytes('--shm-size', o.shmSize) ?? 0,
    resources,
    groupAdd: o.groupAdd,
    sysctls: keyValues('--sysctl', o.sysctl),
    runtime: o.runtime ?? '',
  };
  const restart = parseRestart(o.restart);
  if (restart) hostConfig.restartPolicy = restart;
  if (o.init) hostConfig.init = true;
  return { name: o.name ?? '', config, hostConfig };
}
