// Proves the generation pipeline end to end: generated service definition on a grpc-js server,
// generated client, generated message codecs, over a unix socket.
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  GetVersionResponse,
  VersionClient,
  VersionService,
  type VersionServer,
} from '@berth/api/berth/version/v1';
import { unixAddress } from './index.js';

describe('berth.version.v1.Version over a unix socket', () => {
  let dir: string;
  let server: grpc.Server;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-api-'));
    server = new grpc.Server();
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves Get with the generated definition and answers the generated client', async () => {
    const impl: VersionServer = {
      get: (_call, callback) =>
        callback(null, {
          program: 'berth-test',
          version: '0.1.0',
          apiVersions: ['berth.version.v1'],
          gitCommit: 'abc123',
          os: process.platform,
          arch: process.arch,
        }),
    };
    server.addService(VersionService, impl);
    const address = unixAddress(join(dir, 'api.sock'));
    await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );

    const client = new VersionClient(address, grpc.credentials.createInsecure());
    try {
      const res = await new Promise<GetVersionResponse>((resolve, reject) =>
        client.get({}, (err, value) => (err || !value ? reject(err) : resolve(value))),
      );
      expect(res).toBeInstanceOf(GetVersionResponse);
      expect(res.program).toBe('berth-test');
      expect(res.apiVersions).toEqual(['berth.version.v1']);
      expect(res.os).toBe(process.platform);
      expect(res.arch).toBe(process.arch);
    } finally {
      client.close();
    }
  });

  it('round-trips a message through the static codec', () => {
    const bytes = GetVersionResponse.encode({ program: 'p', apiVersions: ['a', 'b'] }).finish();
    const back = GetVersionResponse.decode(bytes);
    expect(back.program).toBe('p');
    expect(back.apiVersions).toEqual(['a', 'b']);
    expect(back.gitCommit).toBe('');
  });
});

describe('unixAddress', () => {
  it('refuses relative and over-long paths', () => {
    expect(() => unixAddress('x.sock')).toThrow(/absolute/);
    expect(() => unixAddress('/' + 'a'.repeat(120))).toThrow(/107/);
    expect(unixAddress('/run/berth/berthd.sock')).toBe('unix:///run/berth/berthd.sock');
  });
});
