/** A container as berthd records it: Docker's inspect fields, plus berthd's own bookkeeping. */
import type { DockerConfig, DockerHostConfig } from '../config/docker-types.js';
import type { RestartState } from '../restart/policy.js';
import type { Health } from './health.js';

export interface DockerState {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** With a healthcheck: Docker's State.Health (container/health.ts). */
  Health?: Health;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface ContainerRecord {
  Id: string;
  /** "/name", as Docker's. */
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  State: DockerState;
  /** The image id ("sha256:…"). */
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  Config: DockerConfig;
  HostConfig: DockerHostConfig;
  /** berthd's: the restart machine's state (policy, manual stop, back-off). */
  restart: RestartState;
  /** The snapshot's overlay dirs (from berth-containerd's Snapshots.Mounts) and where berthd mounts it. */
  rootfs: { lower: string; upper: string; work: string; merged: string };
}

export function freshState(): DockerState {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0,
    ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
}

/** RFC 3339 with nanoseconds, as Docker's times, from nanoseconds since the epoch. */
export function rfc3339Nano(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // ...SS.mmmZ
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return iso.replace(/\.\d{3}Z$/, frac ? `.${frac}Z` : 'Z');
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
}

export function parseTimeNs(s: string): bigint {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(s);
  if (!m) return 0n;
  const base = BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n;
  const frac = BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9) || '0');
  return base + frac;
}
