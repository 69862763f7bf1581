import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addContainerOptions, toCreateRequest, type ContainerFlags } from './container-options.js';

/** Parses a run command line as `berth run` does and builds the Create request. */
function parse(argv: string[], foreground = true) {
  let out: ReturnType<typeof toCreateRequest> | undefined;
  const program = new Command('berth').enablePositionalOptions().exitOverride();
  const run = new Command('run').argument('<image>').argument('[command...]').passThroughOptions().exitOverride();
  addContainerOptions(run, true).action((image: string, args: string[], o: ContainerFlags) => {
    out = toCreateRequest(o, image, args, { foreground: foreground && !o.detach, size: { rows: 30, cols: 90 } });
  });
  program.addCommand(run);
  program.parse(['node', 'berth', 'run', ...argv]);
  return out!;
}

describe('run flags → Create request', () => {
  it('-it, -dit and the command after the image pass through untouched', () => {
    const r = parse(['-it', '--rm', 'busybox', 'sh', '-c', 'echo -it $0', '-e']);
    expect(r.config).toMatchObject({ image: 'busybox', cmd: ['sh', '-c', 'echo -it $0', '-e'], tty: true, openStdin: true, attachStdin: true, stdinOnce: true, consoleRows: 30, consoleCols: 90 });
    expect(r.hostConfig.autoRemove).toBe(true);
    const d = parse(['-dit', 'busybox']);
    expect(d.config).toMatchObject({ tty: true, openStdin: true, attachStdin: false, attachStdout: false });
    expect(parse(['-i', 'busybox', 'cat']).config).toMatchObject({ attachStdin: true, stdinOnce: true });
  });
  it('env, labels, entrypoint, limits, restart, health', () => {
    process.env.BERTH_TEST_FROM_ENV = 'yes';
    const r = parse(['-e', 'A=1', '-e', 'BERTH_TEST_FROM_ENV', '-e', 'BERTH_TEST_UNSET', '-l', 'k=v', '-l', 'bare', '--entrypoint', '', '-m', '512m', '--cpus', '1.5',
      '--pids-limit', '100', '--ulimit', 'nofile=1024:2048', '--restart', 'on-failure:3', '--health-cmd', 'true', '--health-interval', '1s', '--net', 'none', 'busybox']);
    expect(r.config.env).toEqual(['A=1', 'BERTH_TEST_FROM_ENV=yes']);
    expect(r.config.labels).toEqual({ k: 'v', bare: '' });
    expect(r.config.entrypoint).toEqual({ values: [] });
    expect(r.config.healthcheck).toMatchObject({ test: ['CMD-SHELL', 'true'], intervalNs: 1e9 });
    expect(r.hostConfig.resources).toMatchObject({ memory: 512 * 1024 * 1024, nanoCpus: 1.5e9, pidsLimit: 100, ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }] });
    expect(r.hostConfig.restartPolicy).toEqual({ name: 'on-failure', maximumRetryCount: 3 });
    expect(r.hostConfig.networkMode).toBe('none');
  });
  it("bad values name the flag, as Docker's", () => {
    expect(() => parse(['-m', 'lots', 'busybox'])).toThrow(`invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'`);
    expect(() => parse(['--cpus', 'x', 'busybox'])).toThrow('failed to parse x as a rational number');
    expect(() => parse(['--restart', 'always:2:3', 'busybox'])).toThrow('invalid restart policy format');
  });
});
