/**
 * Docker's config merging (moby daemon/commit.go `merge`, daemon/create.go): the run's options
 * over the image's config, then the process's environment (container.CreateDaemonEnvironment).
 */
import { InvalidArgumentError } from '@berth/api/errdefs';
import type { DockerConfig, ImageConfig } from './docker-types.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const envKey = (kv: string): string => {
  const i = kv.indexOf('=');
  return i < 0 ? kv : kv.slice(0, i);
};

/** Appends `extra` to `base`, an entry of `extra` replacing one of `base` with the same key. */
export function replaceOrAppendEnv(base: string[], extra: string[]): string[] {
  const out = [...base];
  for (const kv of extra) {
    const k = envKey(kv);
    const i = out.findIndex((e) => envKey(e) === k);
    if (i >= 0) out[i] = kv;
    else out.push(kv);
  }
  return out;
}

/**
 * `user` is the run's config as given (Entrypoint null when not given; [] or [""] when given
 * empty); the result is the container's Config as Docker records it.
 */
export function mergeConfig(user: DockerConfig, image: ImageConfig): DockerConfig {
  const c: DockerConfig = structuredClone(user);
  if (!c.User) c.User = image.User ?? '';
  if (!c.ExposedPorts || Object.keys(c.ExposedPorts).length === 0) {
    if (image.ExposedPorts) c.ExposedPorts = { ...image.ExposedPorts };
  } else if (image.ExposedPorts) {
    for (const p of Object.keys(image.ExposedPorts)) c.ExposedPorts[p] ??= {};
  }
  if (c.Env.length === 0) c.Env = [...(image.Env ?? [])];
  else {
    const keys = new Set(c.Env.map(envKey));
    for (const e of image.Env ?? []) if (!keys.has(envKey(e))) c.Env.push(e);
  }
  c.Labels = { ...(image.Labels ?? {}), ...c.Labels };
  // A given entrypoint, even an empty one, resets the image's Cmd (Docker: len(Entrypoint)==0
  // only when not given, since the CLI sends [""] for --entrypoint "").
  if (c.Entrypoint === null) {
    if (!c.Cmd || c.Cmd.length === 0) c.Cmd = image.Cmd ? [...image.Cmd] : null;
    c.Entrypoint = image.Entrypoint ? [...image.Entrypoint] : null;
  } else if (c.Entrypoint.length === 1 && c.Entrypoint[0] === '') {
    c.Entrypoint = [];
  }
  if (image.Healthcheck) {
    const h = c.Healthcheck ?? {};
    c.Healthcheck = {
      Test: h.Test && h.Test.length ? h.Test : image.Healthcheck.Test,
      Interval: h.Interval || image.Healthcheck.Interval,
      Timeout: h.Timeout || image.Healthcheck.Timeout,
      StartPeriod: h.StartPeriod || image.Healthcheck.StartPeriod,
      StartInterval: h.StartInterval || image.Healthcheck.StartInterval,
      Retries: h.Retries || image.Healthcheck.Retries,
    };
  }
  if (!c.WorkingDir) c.WorkingDir = image.WorkingDir ?? '';
  if (!c.Volumes || Object.keys(c.Volumes).length === 0) c.Volumes = image.Volumes ? { ...image.Volumes } : null;
  else Object.assign(c.Volumes, image.Volumes ?? {});
  if (!c.StopSignal) c.StopSignal = image.StopSignal || undefined;
  if (!c.Env.some((e) => envKey(e) === 'PATH')) c.Env.unshift(`PATH=${DEFAULT_PATH}`);
  return c;
}

/** The command: Entrypoint then Cmd; none at all is Docker's "no command specified" (125). */
export function command(c: DockerConfig): { path: string; args: string[] } {
  const all = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (all.length === 0 || all[0] === '') throw new InvalidArgumentError('no command specified');
  return { path: all[0]!, args: all.slice(1) };
}

/** The process's environment: PATH, HOSTNAME, TERM (with a TTY), HOME, then the config's Env. */
export function processEnv(c: DockerConfig, home: string): string[] {
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${c.Hostname}`];
  if (c.Tty) base.push('TERM=xterm');
  const env = replaceOrAppendEnv(base, c.Env);
  if (!env.some((e) => envKey(e) === 'HOME')) env.push(`HOME=${home || '/'}`);
  return env;
}
