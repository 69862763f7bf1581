// Docker's config merging rules (moby daemon/commit.go merge, container.CreateDaemonEnvironment).
import { describe, expect, it } from 'vitest';
import type { DockerConfig, ImageConfig } from './docker-types.js';
import { DEFAULT_PATH, command, mergeConfig, processEnv } from './merge.js';
import { resolveUser } from './user.js';
import { applyChanges } from '../images/changes.js';

const user = (o: Partial<DockerConfig> = {}): DockerConfig => ({
  Hostname: 'abc', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false,
  OpenStdin: false, StdinOnce: false, Env: [], Cmd: null, Image: 'img', Volumes: null, WorkingDir: '', Entrypoint: null,
  OnBuild: null, Labels: {}, ...o,
});
const image: ImageConfig = {
  User: 'app', Env: ['PATH=/app/bin:/bin', 'A=image', 'B=image'], Entrypoint: ['/entry'], Cmd: ['serve', '--port', '80'],
  WorkingDir: '/srv', ExposedPorts: { '80/tcp': {} }, StopSignal: 'SIGQUIT', Labels: { a: 'image', b: 'image' },
};

describe('mergeConfig', () => {
  it('takes everything from the image when the run gives nothing', () => {
    const c = mergeConfig(user(), image);
    expect(command(c)).toEqual({ path: '/entry', args: ['serve', '--port', '80'] });
    expect(c).toMatchObject({ User: 'app', WorkingDir: '/srv', StopSignal: 'SIGQUIT', Env: image.Env, ExposedPorts: { '80/tcp': {} } });
  });
  it('a run command replaces Cmd and keeps the entrypoint', () => {
    expect(command(mergeConfig(user({ Cmd: ['sh'] }), image))).toEqual({ path: '/entry', args: ['sh'] });
  });
  it('--entrypoint resets the image Cmd; with a command it takes it', () => {
    expect(command(mergeConfig(user({ Entrypoint: ['/bin/sh'] }), image))).toEqual({ path: '/bin/sh', args: [] });
    expect(command(mergeConfig(user({ Entrypoint: ['/bin/sh'], Cmd: ['-c', 'x'] }), image))).toEqual({ path: '/bin/sh', args: ['-c', 'x'] });
  });
  it('--entrypoint "" clears the entrypoint and the image Cmd: the run command alone, or none (125)', () => {
    expect(command(mergeConfig(user({ Entrypoint: [''], Cmd: ['echo', 'hi'] }), image))).toEqual({ path: 'echo', args: ['hi'] });
    expect(() => command(mergeConfig(user({ Entrypoint: [''] }), image))).toThrow('no command specified');
  });
  it('merges Env by key (the run wins, image keys appended), Labels and ExposedPorts as unions', () => {
    const c = mergeConfig(user({ Env: ['B=run', 'C=run'], Labels: { b: 'run' }, ExposedPorts: { '53/udp': {} } }), image);
    expect(c.Env).toEqual(['B=run', 'C=run', 'PATH=/app/bin:/bin', 'A=image']);
    expect(c.Labels).toEqual({ a: 'image', b: 'run' });
    expect(Object.keys(c.ExposedPorts ?? {}).sort()).toEqual(['53/udp', '80/tcp']);
  });
  it('run options win: user, workdir, stop signal', () => {
    expect(mergeConfig(user({ User: '1000:1000', WorkingDir: '/w', StopSignal: 'SIGINT' }), image)).toMatchObject({ User: '1000:1000', WorkingDir: '/w', StopSignal: 'SIGINT' });
  });
  it('adds the default PATH when neither gives one', () => {
    expect(mergeConfig(user({ Cmd: ['x'] }), {}).Env).toEqual([`PATH=${DEFAULT_PATH}`]);
  });
});

describe('processEnv', () => {
  it('PATH, HOSTNAME, TERM with a TTY, HOME from passwd, replaced by the config', () => {
    expect(processEnv(user({ Tty: true, Env: ['PATH=/x', 'FOO=1'] }), '/root')).toEqual(['PATH=/x', 'HOSTNAME=abc', 'TERM=xterm', 'FOO=1', 'HOME=/root']);
    expect(processEnv(user({ Env: ['HOME=/h'] }), '/root')).toEqual([`PATH=${DEFAULT_PATH}`, 'HOSTNAME=abc', 'HOME=/h']);
  });
});

describe('resolveUser (the container\'s /etc/passwd and /etc/group)', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n';
  const group = 'root:x:0:\nwheel:x:10:app\naudio:x:29:app,other\napp:x:1000:\nnogroup:x:65534:\n';
  it('names, numbers, groups, supplementary groups and --group-add', () => {
    expect(resolveUser('', passwd, group)).toEqual({ uid: 0, gid: 0, additionalGids: [], home: '/root' });
    expect(resolveUser('app', passwd, group)).toEqual({ uid: 1000, gid: 1000, additionalGids: [10, 29], home: '/home/app' });
    expect(resolveUser('1000', passwd, group)).toMatchObject({ uid: 1000, gid: 1000 });
    expect(resolveUser('4242', passwd, group)).toEqual({ uid: 4242, gid: 0, additionalGids: [], home: '/' });
    expect(resolveUser('app:wheel', passwd, group)).toEqual({ uid: 1000, gid: 10, additionalGids: [], home: '/home/app' });
    expect(resolveUser('nobody:5', passwd, group)).toMatchObject({ uid: 65534, gid: 5 });
    expect(resolveUser('nobody', passwd, group, ['audio', '7'])).toMatchObject({ additionalGids: [29, 7] });
  });
  it('unknown names are errors, as Docker\'s', () => {
    expect(() => resolveUser('ghost', passwd, group)).toThrow('unable to find user ghost');
    expect(() => resolveUser('app:ghosts', passwd, group)).toThrow('unable to find group ghosts');
  });
});

describe('import --change', () => {
  it('applies Dockerfile instructions', () => {
    expect(applyChanges({}, ['CMD ["sh"]', 'ENTRYPOINT /bin/x', 'ENV A=1 B="two words"', 'EXPOSE 80 53/udp', 'USER app', 'WORKDIR /w', 'LABEL k=v', 'STOPSIGNAL SIGINT'])).toEqual({
      Cmd: ['sh'], Entrypoint: ['/bin/sh', '-c', '/bin/x'], Env: ['A=1', 'B=two words'], ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      User: 'app', WorkingDir: '/w', Labels: { k: 'v' }, StopSignal: 'SIGINT',
    });
    expect(() => applyChanges({}, ['RUN x'])).toThrow('not a valid change');
  });
});
