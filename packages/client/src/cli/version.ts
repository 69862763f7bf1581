// berth version: the client's and berthd's versions, as docker version.
import { Command } from 'commander';
import type { IVersionResponse } from '@berth/api/berth/engine/v1';
import { unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { describe, ExitError } from '../lib/errors.js';
import pkg from '../../package.json' with { type: 'json' };

export function versionCommand(ctx: Ctx, name = 'version'): Command {
  return new Command(name)
    .description('Show the Berth version information')
    .option('-f, --format <string>', 'format output using a custom template')
    .action(async (o: { format?: string }) => {
      const client = { Version: pkg.version, ApiVersion: 'berth.engine.v1', NodeVersion: process.version, Os: process.platform, Arch: process.arch };
      let server: IVersionResponse | undefined;
      let err: unknown;
      try {
        server = await unary<IVersionResponse>((cb) => ctx.api().system.version({}, cb));
      } catch (e) {
        err = e;
      }
      const srv = server && {
        Version: server.version, ApiVersion: server.apiVersion, GitCommit: server.gitCommit, NodeVersion: server.nodeVersion, Os: server.os, Arch: server.arch,
        KernelVersion: server.kernelVersion, Components: (server.components ?? []).map((c) => ({ Name: c.name, Version: c.version, Details: c.details ?? {} })),
      };
      if (o.format) {
        const { renderTemplate } = await import('../format/index.js'); // lazily: its set-up (string-width's) is ~15 ms
        process.stdout.write(`${renderTemplate(o.format, { Client: client, Server: srv ?? null })}\n`);
      } else {
        let out = `Client:\n Version:           ${client.Version}\n API version:       ${client.ApiVersion}\n Node version:      ${client.NodeVersion}\n OS/Arch:           ${client.Os}/${client.Arch}\n`;
        if (srv) {
          out += `\nServer:\n Engine:\n  Version:          ${srv.Version}\n  API version:      ${srv.ApiVersion}\n  Node version:     ${srv.NodeVersion}\n  Git commit:       ${srv.GitCommit}\n  OS/Arch:          ${srv.Os}/${srv.Arch}\n  Kernel version:   ${srv.KernelVersion}\n`;
          for (const c of srv.Components) out += ` ${c.Name}:\n  Version:          ${c.Version}\n`;
        }
        process.stdout.write(out);
      }
      if (err) throw new ExitError(1, describe(err, ctx.host()));
    });
}
