/**
 * berth.engine.v1's ContainerConfig/HostConfig → Docker's Config/HostConfig, validated (an invalid
 * value is InvalidArgument, which the CLI shows with exit 125, nothing recorded).
 */
import type { IContainerConfig, IHostConfig, IResources } from '@berth/api/berth/engine/v1';
import { InvalidArgumentError } from '@berth/api/errdefs';
import { parsePolicy } from '../restart/policy.js';
import type { DockerConfig, DockerHostConfig } from './docker-types.js';
import { parseSignal } from './signals.js';
import { parseBytes } from './units.js';

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(String(v)));
const list = (v: string[] | null | undefined): string[] => [...(v ?? [])];

export function configFromRequest(c: IContainerConfig): DockerConfig {
  if (!c.image) throw new InvalidArgumentError('no image given');
  const ports: Record<string, Record<string, never>> = {};
  for (const p of c.exposedPorts ?? []) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(p);
    if (!m) throw new InvalidArgumentError(`invalid exposed port ${JSON.stringify(p)}`);
    ports[`${m[1]}/${m[2] ?? 'tcp'}`] = {};
  }
  if (c.stopSignal) parseSignal(c.stopSignal);
  for (const e of c.env ?? []) if (e.startsWith('=') || e === '') throw new InvalidArgumentError(`invalid environment variable: ${e}`);
  const cfg: DockerConfig = {
    Hostname: c.hostname ?? '',
    Domainname: c.domainname ?? '',
    User: c.user ?? '',
    AttachStdin: Boolean(c.attachStdin),
    AttachStdout: Boolean(c.attachStdout),
    AttachStderr: Boolean(c.attachStderr),
    ExposedPorts: Object.keys(ports).length ? ports : undefined,
    Tty: Boolean(c.tty),
    OpenStdin: Boolean(c.openStdin),
    StdinOnce: Boolean(c.stdinOnce),
    Env: list(c.env),
    Cmd: c.cmd && c.cmd.length ? list(c.cmd) : null,
    Image: c.image,
    Volumes: c.volumes && c.volumes.length ? Object.fromEntries(c.volumes.map((v) => [v, {}])) : null,
    WorkingDir: c.workingDir ?? '',
    Entrypoint: c.entrypoint ? list(c.entrypoint.values) : null,
    OnBuild: c.onBuild && c.onBuild.length ? list(c.onBuild) : null,
    Labels: { ...(c.labels ?? {}) },
    StopSignal: c.stopSignal || undefined,
    NetworkDisabled: c.networkDisabled || undefined,
  };
  if (c.stopTimeout !== null && c.stopTimeout !== undefined) cfg.StopTimeout = c.stopTimeout;
  if (cfg.WorkingDir && !cfg.WorkingDir.startsWith('/')) {
    throw new InvalidArgumentError(`the working directory '${cfg.WorkingDir}' is invalid, it needs to be an absolute path`);
  }
  if (c.healthcheck && (c.healthcheck.test?.length || c.healthcheck.intervalNs)) {
    cfg.Healthcheck = {
      Test: list(c.healthcheck.test), Interval: num(c.healthcheck.intervalNs), Timeout: num(c.healthcheck.timeoutNs),
      StartPeriod: num(c.healthcheck.startPeriodNs), StartInterval: num(c.healthcheck.startIntervalNs), Retries: num(c.healthcheck.retries),
    };
  }
  return cfg;
}

const CAP_NAME = /^(CAP_)?[A-Z_]+$|^ALL$/i;
function caps(v: string[] | null | undefined, what: string): string[] | null {
  if (!v || v.length === 0) return null;
  for (const c of v) if (!CAP_NAME.test(c)) throw new InvalidArgumentError(`invalid ${what} capability ${JSON.stringify(c)}`);
  return [...v];
}

export function resourcesFromRequest(r: IResources | null | undefined, into: Partial<DockerHostConfig> = {}): Partial<DockerHostConfig> {
  if (!r) return into;
  const memory = num(r.memory);
  if (memory < 0) throw new InvalidArgumentError(`invalid memory limit ${memory}`);
  if (memory && memory < 6 * 1024 * 1024) throw new InvalidArgumentError('Minimum memory limit allowed is 6MB');
  const swap = num(r.memorySwap);
  if (memory && swap > 0 && swap < memory) throw new InvalidArgumentError('Minimum memoryswap limit should be larger than memory limit, see usage');
  const nano = num(r.nanoCpus);
  if (nano < 0) throw new InvalidArgumentError(`invalid --cpus: ${nano / 1e9}`);
  if (nano && (num(r.cpuPeriod) || num(r.cpuQuota))) throw new InvalidArgumentError('Conflicting options: Nano CPUs and CPU Period/Quota cannot both be set');
  if (nano > (process.env.BERTH_NCPU ? Number(process.env.BERTH_NCPU) : 1e9 * 4096)) throw new InvalidArgumentError('range of CPUs is out of bounds');
  if (memory) into.Memory = memory;
  if (swap) into.MemorySwap = swap;
  if (num(r.memoryReservation)) into.MemoryReservation = num(r.memoryReservation);
  if (nano) into.NanoCpus = nano;
  if (num(r.cpuShares)) into.CpuShares = num(r.cpuShares);
  if (num(r.cpuPeriod)) into.CpuPeriod = num(r.cpuPeriod);
  if (num(r.cpuQuota)) into.CpuQuota = num(r.cpuQuota);
  if (r.cpusetCpus) into.CpusetCpus = r.cpusetCpus;
  if (r.cpusetMems) into.CpusetMems = r.cpusetMems;
  if (r.pidsLimit !== null && r.pidsLimit !== undefined) into.PidsLimit = num(r.pidsLimit) > 0 ? num(r.pidsLimit) : null;
  if (r.ulimits && r.ulimits.length) {
    into.Ulimits = r.ulimits.map((u) => {
      if (!/^[a-z]+$/.test(u.name ?? '')) throw new InvalidArgumentError(`invalid ulimit type: ${u.name}`);
      if (num(u.soft) > num(u.hard)) throw new InvalidArgumentError(`ulimit soft limit must be less than or equal to hard limit: ${num(u.soft)} > ${num(u.hard)}`);
      return { Name: u.name!, Soft: num(u.soft), Hard: num(u.hard) };
    });
  }
  if (r.devices && r.devices.length) {
    into.Devices = r.devices.map((d) => {
      if (!d.pathOnHost?.startsWith('/')) throw new InvalidArgumentError(`invalid device path ${JSON.stringify(d.pathOnHost)}`);
      const perms = d.cgroupPermissions || 'rwm';
      if (!/^[rwm]{1,3}$/.test(perms)) throw new InvalidArgumentError(`invalid device mode: ${perms}`);
      return { PathOnHost: d.pathOnHost, PathInContainer: d.pathInContainer || d.pathOnHost, CgroupPermissions: perms };
    });
  }
  if (r.oomKillDisable !== null && r.oomKillDisable !== undefined) into.OomKillDisable = r.oomKillDisable;
  if (num(r.blkioWeight)) into.BlkioWeight = num(r.blkioWeight);
  return into;
}

export function hostConfigFromRequest(h: IHostConfig | null | undefined): DockerHostConfig {
  h ??= {};
  const policyName = h.restartPolicy?.name ?? '';
  let policy;
  try {
    policy = parsePolicy(policyName === 'on-failure' && num(h.restartPolicy?.maximumRetryCount) ? `on-failure:${num(h.restartPolicy?.maximumRetryCount)}` : policyName);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  if (num(h.restartPolicy?.maximumRetryCount) && policy.name !== 'on-failure') {
    throw new InvalidArgumentError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  }
  if (h.autoRemove && policy.name !== 'no') {
    throw new InvalidArgumentError(`conflicting options: cannot specify both --restart and --rm`);
  }
  const network = h.networkMode || 'default';
  if (!['default', 'bridge', 'none', 'host'].includes(network)) {
    throw new InvalidArgumentError(`network ${network} not found (berthd supports none and host for now)`);
  }
  if (h.pidMode && h.pidMode !== 'host') throw new InvalidArgumentError(`invalid --pid: ${h.pidMode}`);
  if (h.utsMode && h.utsMode !== 'host') throw new InvalidArgumentError(`invalid --uts: ${h.utsMode}`);
  if (h.ipcMode && !['private', 'shareable', 'host', 'none'].includes(h.ipcMode)) throw new InvalidArgumentError(`invalid IPC mode: ${h.ipcMode}`);
  const logType = h.logConfig?.type || 'json-file';
  if (logType !== 'json-file') throw new InvalidArgumentError(`logging driver ${logType} is not supported (json-file only)`);
  const logOpts = { ...(h.logConfig?.config ?? {}) };
  for (const k of Object.keys(logOpts)) {
    if (!['max-size', 'max-file', 'compress', 'labels', 'env', 'tag'].includes(k)) throw new InvalidArgumentError(`unknown log opt '${k}' for json-file log driver`);
  }
  if (logOpts['max-size'] && logOpts['max-size'] !== '-1') parseBytes(logOpts['max-size'], 'max-size');
  if (logOpts['max-file'] && !(Number(logOpts['max-file']) >= 1)) throw new InvalidArgumentError(`invalid value for max-file: ${logOpts['max-file']}`);
  for (const so of h.securityOpt ?? []) {
    if (!/^(no-new-privileges(:(true|false))?|seccomp[=:].+|apparmor[=:].+|label[=:].+|systempaths=unconfined)$/.test(so)) {
      throw new InvalidArgumentError(`invalid --security-opt: ${JSON.stringify(so)}`);
    }
    const sm = /^seccomp[=:](.+)$/.exec(so);
    if (sm && sm[1] !== 'unconfined') throw new InvalidArgumentError('seccomp profiles from files are not supported yet: use seccomp=unconfined or the default');
  }
  const shm = num(h.shmSize);
  if (shm < 0) throw new InvalidArgumentError('SHM size can not be less than 0');
  const hc: DockerHostConfig = {
    Binds: h.binds && h.binds.length ? [...h.binds] : null,
    LogConfig: { Type: logType, Config: logOpts },
    NetworkMode: network,
    PortBindings: {},
    RestartPolicy: { Name: policy.name, MaximumRetryCount: policy.maxRetries },
    AutoRemove: Boolean(h.autoRemove),
    CapAdd: caps(h.capAdd, '--cap-add'),
    CapDrop: caps(h.capDrop, '--cap-drop'),
    Dns: list(h.dns),
    DnsOptions: list(h.dnsOptions),
    DnsSearch: list(h.dnsSearch),
    ExtraHosts: h.extraHosts && h.extraHosts.length ? [...h.extraHosts] : null,
    GroupAdd: h.groupAdd && h.groupAdd.length ? [...h.groupAdd] : null,
    IpcMode: h.ipcMode || 'private',
    PidMode: h.pidMode ?? '',
    UTSMode: h.utsMode ?? '',
    Privileged: Boolean(h.privileged),
    ReadonlyRootfs: Boolean(h.readonlyRootfs),
    SecurityOpt: h.securityOpt && h.securityOpt.length ? [...h.securityOpt] : null,
    Tmpfs: h.tmpfs && Object.keys(h.tmpfs).length ? { ...h.tmpfs } : undefined,
    ShmSize: shm || 64 * 1024 * 1024,
    Init: h.init === null || h.init === undefined ? null : h.init,
    Runtime: h.runtime || 'berth-runc',
    Sysctls: h.sysctls && Object.keys(h.sysctls).length ? { ...h.sysctls } : undefined,
    ConsoleSize: [0, 0],
    Memory: 0, MemorySwap: 0, MemoryReservation: 0, NanoCpus: 0, CpuShares: 0, CpuPeriod: 0, CpuQuota: 0,
    CpusetCpus: '', CpusetMems: '', PidsLimit: null, Ulimits: null, Devices: [], OomKillDisable: null, BlkioWeight: 0,
  };
  for (const b of hc.Binds ?? []) {
    const parts = b.split(':');
    if (parts.length < 2 || !parts[1]!.startsWith('/') || !parts[0]!.startsWith('/')) {
      throw new InvalidArgumentError(`invalid bind mount ${JSON.stringify(b)}: use /host/path:/container/path[:ro] (named volumes come later)`);
    }
  }
  Object.assign(hc, resourcesFromRequest(h.resources));
  return hc;
}
