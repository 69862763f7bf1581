// berth-ctr: a client for berth-containerd alone, with containerd's `ctr` commands and flags
// where they apply. Errors are converted once here: a message on stderr and exit status 1.
import { Command, Option } from 'commander';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { Status } from '@berth/api/berth/tasks/v1';
import type { Envelope } from '@berth/api/berth/events/v1';
import pkg from '../../package.json' with { type: 'json' };
import { ContainerdClient } from '../client.js';
import { errorMessage, isNotFound } from '@berth/api/errdefs';
import { fromLong } from '../long.js';
import { defaultSpec } from '../oci/default-spec.js';
import { checkImages, exportImages, getImage, humanSize, imageConfig, importArchive, listImages } from './images.js';
import { attachIo } from './io.js';
import { table } from './table.js';

const DEFAULT_ADDRESS = '/run/berth/containerd/containerd.sock';

const program = new Command('berth-ctr')
  .description('A client for berth-containerd, after containerd\'s ctr.')
  .version(pkg.version, '-v, --version')
  .option('-a, --address <path>', 'berth-containerd\'s socket (env BERTH_CONTAINERD_ADDRESS)', process.env.BERTH_CONTAINERD_ADDRESS ?? DEFAULT_ADDRESS)
  .option('-n, --namespace <ns>', 'the namespace (env CONTAINERD_NAMESPACE)', process.env.CONTAINERD_NAMESPACE ?? 'default')
  .enablePositionalOptions();

interface Globals { address: string; namespace: string }
const globals = (): Globals => program.opts<Globals>();
let client: ContainerdClient | undefined;
const cli = (): ContainerdClient => (client ??= new ContainerdClient(resolve(globals().address)));
const ns = (): string => globals().namespace;

function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) return Number(s);
  const name = (s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`) as keyof typeof constants.signals;
  const n = constants.signals[name];
  if (!n) throw new Error(`unknown signal ${s}`);
  return n;
}

const STATUS_NAME: Record<number, string> = {
  [Status.STATUS_UNKNOWN]: 'UNKNOWN', [Status.STATUS_CREATED]: 'CREATED', [Status.STATUS_RUNNING]: 'RUNNING',
  [Status.STATUS_STOPPED]: 'STOPPED', [Status.STATUS_PAUSED]: 'PAUSED',
};

function nsToIso(v: unknown): string {
  const n = fromLong(v as never);
  if (!n) return '';
  const ms = n / 1_000_000n;
  return new Date(Number(ms)).toISOString().replace(/\.\d+Z$/, `.${String(n % 1_000_000_000n).padStart(9, '0')}Z`);
}

/** Waits for the process's exit through the Wait RPC (which outlives attach hiccups). */
async function waitExit(containerId: string, execId: string): Promise<number> {
  const c = cli();
  for (;;) {
    try {
      const r = await c.call(c.tasks, (t) => t.wait, { namespace: ns(), containerId, execId }, 0, true);
      if (r.reason) process.stderr.write(`berth-ctr: ${containerId}${execId ? ` exec ${execId}` : ''}: ${r.reason}\n`);
      return r.exitStatus;
    } catch (e) {
      // berth-containerd restarting: the shim keeps the process; ask again.
      if (!/UNAVAILABLE|unavailable|No connection|ECONNREFUSED|is it running/i.test(errorMessage(e))) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function runAttached(containerId: string, execId: string, tty: boolean, start: () => Promise<unknown>): Promise<number> {
  const io = attachIo(cli(), { namespace: ns(), containerId, execId, tty, stdin: true });
  try {
    await start();
  } catch (e) {
    io.detach();
    throw e;
  }
  const code = await waitExit(containerId, execId);
  // Let the last output through (the stream closes after the exit).
  await Promise.race([io.done, new Promise((r) => setTimeout(r, 2000))]);
  io.detach();
  return code;
}

program
  .command('run')
  .description('run a container from an image (run [-d] [-t] [--rm] IMAGE ID [CMD...]) or a root filesystem (run --rootfs DIR ID [CMD...])')
  .option('--rootfs <dir>', 'the root filesystem (a directory) instead of an image; the first argument is then the id')
  .option('-d, --detach', 'do not attach; leave the task running')
  .option('-t, --tty', 'allocate a terminal')
  .option('--rm', 'delete the task and container (and its snapshot) when it exits')
  .option('--runtime <name|path>', '"berth-runc" (default) or a runc-compatible binary', 'berth-runc')
  .option('--snapshotter <name>', 'the snapshotter (only overlayfs)', 'overlayfs')
  .option('--env <KEY=VALUE>', 'an environment variable (repeatable)', (v: string, a: string[]) => [...a, v], [] as string[])
  .option('--cwd <dir>', 'the working directory inside the container')
  .option('--label <KEY=VALUE>', 'a label (repeatable)', (v: string, a: string[]) => [...a, v], [] as string[])
  .option('--log-max-size <bytes>', 'rotate the log at this size', '0')
  .option('--log-max-files <n>', 'log files kept', '0')
  .argument('<image|id>')
  .argument('[args...]')
  .passThroughOptions()
  .action(async (first: string, rest: string[], o: { rootfs?: string; detach?: boolean; tty?: boolean; rm?: boolean; runtime: string; snapshotter: string; env: string[]; cwd?: string; label: string[]; logMaxSize: string; logMaxFiles: string }) => {
    const c = cli();
    const tty = Boolean(o.tty);
    let id: string;
    let cmd: string[];
    let container: Record<string, unknown>;
    let spec: Record<string, unknown>;
    if (o.rootfs) {
      id = first;
      cmd = rest;
      spec = defaultSpec({ namespace: ns(), id, args: cmd.length ? cmd : ['sh'], terminal: tty, env: o.env, cwd: o.cwd });
      container = { rootfs: resolve(o.rootfs) };
    } else {
      if (!rest.length) throw new Error('run: want IMAGE ID [CMD...] (or --rootfs DIR ID [CMD...])');
      id = rest[0]!;
      cmd = rest.slice(1);
      const img = await getImage(c, ns(), first);
      const { config } = await imageConfig(c, img.target);
      const ic = (config.config ?? {}) as { Env?: string[]; Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string; User?: string };
      // As ctr: the image's entrypoint, then the given command or else the image's.
      const args = [...(ic.Entrypoint ?? []), ...(cmd.length ? cmd : (ic.Cmd ?? []))];
      spec = defaultSpec({ namespace: ns(), id, args: args.length ? args : ['sh'], terminal: tty, env: [...(ic.Env ?? []), ...o.env], cwd: o.cwd ?? (ic.WorkingDir || undefined) });
      const proc = spec.process as { env: string[]; user: { uid: number; gid: number } };
      // The image's PATH wins over the default one.
      if ((ic.Env ?? []).some((e) => e.startsWith('PATH='))) proc.env = proc.env.slice(1);
      if (ic.User) {
        const m = /^(\d+)(?::(\d+))?$/.exec(ic.User);
        if (!m) throw new Error(`image ${img.name}: user ${JSON.stringify(ic.User)}: only numeric uid[:gid] is supported`);
        proc.user = { uid: Number(m[1]), gid: Number(m[2] ?? 0) };
      }
      container = { image: img.name, snapshotter: o.snapshotter, snapshotKey: id };
    }
    const runtime = o.runtime === 'berth-runc' ? { name: 'berth-runc', path: '', args: [] } : { name: o.runtime.split('/').pop() ?? o.runtime, path: o.runtime, args: [] };
    const labels = Object.fromEntries(o.label.map((l) => [l.split('=')[0], l.split('=').slice(1).join('=')]));
    await c.call(c.containers, (x) => x.create, { namespace: ns(), container: { id, runtime, specJson: Buffer.from(JSON.stringify(spec)), labels, ...container } });
    const rows = process.stdout.rows ?? 0;
    const cols = process.stdout.columns ?? 0;
    try {
      // Task create unpacks the image on first use: no short deadline.
      await c.call(c.tasks, (x) => x.create, {
        namespace: ns(), containerId: id, terminal: tty, stdin: !o.detach || tty, rows, cols,
        log: { maxSize: Number(o.logMaxSize), maxFiles: Number(o.logMaxFiles) },
      }, 0);
    } catch (e) {
      await c.call(c.containers, (x) => x.delete, { namespace: ns(), id }).catch(() => undefined);
      throw e;
    }
    if (o.detach) {
      await c.call(c.tasks, (x) => x.start, { namespace: ns(), containerId: id });
      return;
    }
    const code = await runAttached(id, '', tty, () => c.call(c.tasks, (x) => x.start, { namespace: ns(), containerId: id }));
    if (o.rm) {
      await c.call(c.tasks, (x) => x.delete, { namespace: ns(), containerId: id, force: true });
      await c.call(c.containers, (x) => x.delete, { namespace: ns(), id });
    }
    process.exitCode = code;
  });

// --- images, snapshots, content

const images = program.command('images').alias('image').alias('i').description('manage images');
images
  .command('import')
  .description('import an OCI image layout tar or a docker save archive')
  .option('--index-name <name>', 'name the archive\'s index itself as an image')
  .option('--base-name <name>', 'name for manifests whose ref is a tag only (NAME:TAG)')
  .argument('<file>')
  .action(async (file: string, o: { indexName?: string; baseName?: string }) => {
    await importArchive(cli(), ns(), resolve(file), { indexName: o.indexName, baseName: o.baseName, log: (l) => console.log(`imported ${l}`) });
  });
images
  .command('export')
  .description('export images as an OCI image layout tar (with a docker manifest.json)')
  .argument('<file>').argument('<name...>')
  .action(async (file: string, names: string[]) => {
    await exportImages(cli(), ns(), resolve(file), names);
  });
images
  .command('ls').alias('list')
  .option('-q, --quiet', 'print only the names')
  .action(async (o: { quiet?: boolean }) => {
    const rows = await listImages(cli(), ns());
    if (o.quiet) return rows.forEach((r) => console.log(r.name));
    console.log(table(['REF', 'TYPE', 'DIGEST', 'SIZE', 'PLATFORMS', 'LABELS'], rows.map((r) => [r.name, r.mediaType, r.digest, humanSize(r.size), r.platforms, r.labels])));
  });
images
  .command('check')
  .description('check that each image\'s content is all there, and whether it is unpacked')
  .option('-q, --quiet', 'print only the names')
  .action(async (o: { quiet?: boolean }) => {
    const rows = await checkImages(cli(), ns());
    if (o.quiet) return rows.forEach((r) => console.log(r.name));
    console.log(table(['REF', 'TYPE', 'DIGEST', 'STATUS', 'SIZE', 'UNPACKED'], rows.map((r) => [r.name, r.mediaType, r.digest, r.status, r.size, String(r.unpacked)])));
  });
images
  .command('rm').alias('remove').alias('delete').alias('del')
  .argument('<name...>')
  .option('--async', 'do not wait for the garbage collection')
  .action(async (names: string[], o: { async?: boolean }) => {
    const c = cli();
    let failed = false;
    for (const name of names) {
      try {
        const img = await getImage(c, ns(), name);
        await c.call(c.images, (x) => x.delete, { namespace: ns(), name: img.name, sync: !o.async }, 0);
        console.log(img.name);
      } catch (e) {
        failed = true;
        process.stderr.write(`berth-ctr: ${errorMessage(e)}\n`);
      }
    }
    if (failed) process.exitCode = 1;
  });

const snapshots = program.command('snapshots').alias('snapshot').description('manage snapshots (overlayfs)');
const KIND_NAME: Record<number, string> = { 0: 'Unknown', 1: 'View', 2: 'Active', 3: 'Committed' };
snapshots
  .command('ls').alias('list')
  .action(async () => {
    const c = cli();
    const r = await c.call(c.snapshots, (x) => x.list, { snapshotter: 'overlayfs' });
    console.log(table(['KEY', 'PARENT', 'KIND'], r.info.map((i) => [i.name ?? '', i.parent ?? '', KIND_NAME[i.kind ?? 0] ?? 'Unknown'])));
  });
snapshots
  .command('info').argument('<key>')
  .action(async (key: string) => {
    const c = cli();
    const i = (await c.call(c.snapshots, (x) => x.stat, { snapshotter: 'overlayfs', key })).info!;
    console.log(JSON.stringify({ Kind: KIND_NAME[i.kind ?? 0], Name: i.name, Parent: i.parent || undefined, Labels: i.labels, Created: nsToIso(i.createdAtNs), Updated: nsToIso(i.updatedAtNs) }, null, 4));
  });
snapshots
  .command('rm').alias('remove').alias('delete').alias('del').argument('<key...>')
  .action(async (keys: string[]) => {
    const c = cli();
    let failed = false;
    for (const key of keys) {
      try {
        await c.call(c.snapshots, (x) => x.remove, { snapshotter: 'overlayfs', key });
      } catch (e) {
        failed = true;
        process.stderr.write(`berth-ctr: ${errorMessage(e)}\n`);
      }
    }
    if (failed) process.exitCode = 1;
  });
snapshots
  .command('usage').argument('[key...]')
  .option('-b', 'sizes in bytes')
  .action(async (keys: string[], o: { b?: boolean }) => {
    const c = cli();
    const list = keys.length ? keys : (await c.call(c.snapshots, (x) => x.list, { snapshotter: 'overlayfs' })).info.map((i) => i.name ?? '');
    const rows: string[][] = [];
    for (const key of list) {
      const u = await c.call(c.snapshots, (x) => x.usage, { snapshotter: 'overlayfs', key });
      rows.push([key, o.b ? String(u.size) : humanSize(Number(u.size)), String(u.inodes)]);
    }
    console.log(table(['KEY', 'SIZE', 'INODES'], rows));
  });

const content = program.command('content').description('manage content (blobs by digest)');
content
  .command('ls').alias('list')
  .option('-q, --quiet', 'print only the digests')
  .action(async (o: { quiet?: boolean }) => {
    const c = cli();
    const r = await c.call(c.content, (x) => x.list, {});
    if (o.quiet) return r.info.forEach((i) => console.log(i.digest));
    console.log(table(['DIGEST', 'SIZE', 'CREATED', 'LABELS'], r.info.map((i) => [i.digest ?? '', humanSize(Number(i.size)), nsToIso(i.createdAtNs), Object.entries(i.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '-'])));
  });
content
  .command('get').argument('<digest>')
  .description('write a blob to stdout')
  .action(async (digest: string) => {
    for await (const chunk of cli().readContent(digest)) {
      if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
    }
  });
content
  .command('rm').alias('remove').alias('delete').alias('del').argument('<digest...>')
  .action(async (digests: string[]) => {
    const c = cli();
    let failed = false;
    for (const digest of digests) {
      try {
        await c.call(c.content, (x) => x.delete, { digest });
      } catch (e) {
        failed = true;
        process.stderr.write(`berth-ctr: ${errorMessage(e)}\n`);
      }
    }
    if (failed) process.exitCode = 1;
  });

program
  .command('gc')
  .description('remove content and snapshots nothing references (images, containers, leases), now')
  .action(async () => {
    const c = cli();
    // A lease deleted with sync runs a GC before it answers.
    const l = await c.call(c.leases, (x) => x.create, {});
    await c.call(c.leases, (x) => x.delete, { id: l.lease!.id, sync: true }, 0);
  });

// --- containers

const containers = program.command('containers').alias('c').alias('container').description('manage containers');
containers
  .command('ls').alias('list')
  .option('-q, --quiet', 'print only the ids')
  .action(async (o: { quiet?: boolean }) => {
    const c = cli();
    const r = await c.call(c.containers, (x) => x.list, { namespace: ns() });
    if (o.quiet) return r.containers.forEach((x) => console.log(x.id));
    console.log(table(['CONTAINER', 'IMAGE', 'RUNTIME'], r.containers.map((x) => [x.id ?? '', x.image || '-', x.runtime?.path || x.runtime?.name || 'berth-runc'])));
  });
containers
  .command('info').argument('<id>')
  .action(async (id: string) => {
    const c = cli();
    const r = await c.call(c.containers, (x) => x.get, { namespace: ns(), id });
    const x = r.container!;
    console.log(JSON.stringify({
      ID: x.id, Labels: x.labels, Image: x.image, Runtime: x.runtime, Rootfs: x.rootfs, SnapshotKey: x.snapshotKey, Snapshotter: x.snapshotter,
      CreatedAt: nsToIso(x.createdAtNs), UpdatedAt: nsToIso(x.updatedAtNs), Spec: JSON.parse(Buffer.from(x.specJson ?? []).toString('utf8') || 'null') as unknown,
    }, null, 4));
  });
containers
  .command('rm').alias('delete').alias('del').alias('remove')
  .argument('<id...>')
  .action(async (ids: string[]) => {
    const c = cli();
    let failed = false;
    for (const id of ids) {
      try {
        await c.call(c.containers, (x) => x.delete, { namespace: ns(), id });
      } catch (e) {
        failed = true;
        process.stderr.write(`berth-ctr: ${errorMessage(e)}\n`);
      }
    }
    if (failed) process.exitCode = 1;
  });

// --- tasks

const tasks = program.command('tasks').alias('t').alias('task').description('manage tasks');
tasks
  .command('ls').alias('list')
  .option('-q, --quiet', 'print only the ids')
  .action(async (o: { quiet?: boolean }) => {
    const c = cli();
    const r = await c.call(c.tasks, (x) => x.list, { namespace: ns() });
    if (o.quiet) return r.tasks.forEach((t) => console.log(t.containerId));
    console.log(table(['TASK', 'PID', 'STATUS'], r.tasks.map((t) => [t.containerId ?? '', String(t.pid), STATUS_NAME[t.status ?? 0] ?? 'UNKNOWN'])));
  });
tasks
  .command('start').argument('<id>')
  .option('-d, --detach', 'do not attach')
  .option('-t, --tty', 'allocate a terminal (defaults to the container spec\'s)')
  .action(async (id: string, o: { detach?: boolean; tty?: boolean }) => {
    const c = cli();
    const ct = await c.call(c.containers, (x) => x.get, { namespace: ns(), id });
    const spec = JSON.parse(Buffer.from(ct.container?.specJson ?? []).toString('utf8') || '{}') as { process?: { terminal?: boolean } };
    const tty = o.tty ?? Boolean(spec.process?.terminal);
    await c.call(c.tasks, (x) => x.create, { namespace: ns(), containerId: id, terminal: tty, stdin: !o.detach || tty, rows: process.stdout.rows ?? 0, cols: process.stdout.columns ?? 0 });
    if (o.detach) return void (await c.call(c.tasks, (x) => x.start, { namespace: ns(), containerId: id }));
    process.exitCode = await runAttached(id, '', tty, () => c.call(c.tasks, (x) => x.start, { namespace: ns(), containerId: id }));
  });
tasks
  .command('kill').argument('<id>')
  .option('-s, --signal <sig>', 'the signal', 'SIGTERM')
  .option('-a, --all', 'signal every process of the container')
  .option('--exec-id <id>', 'signal an exec\'d process', '')
  .action(async (id: string, o: { signal: string; all?: boolean; execId: string }) => {
    const c = cli();
    await c.call(c.tasks, (x) => x.kill, { namespace: ns(), containerId: id, execId: o.execId, signal: parseSignal(o.signal), all: Boolean(o.all) });
  });
tasks
  .command('rm').alias('delete').alias('del').alias('remove').argument('<id...>')
  .option('-f, --force', 'kill a running task first')
  .option('--exec-id <id>', 'delete an exec\'d process instead', '')
  .action(async (ids: string[], o: { force?: boolean; execId: string }) => {
    const c = cli();
    let failed = false;
    for (const id of ids) {
      try {
        const r = o.execId
          ? await c.call(c.tasks, (x) => x.deleteProcess, { namespace: ns(), containerId: id, execId: o.execId })
          : await c.call(c.tasks, (x) => x.delete, { namespace: ns(), containerId: id, force: Boolean(o.force) });
        const p = r.process;
        if (p?.reason) process.stderr.write(`berth-ctr: task ${id}: ${p.reason}\n`);
        else if (p && p.exitStatus !== 0) process.stderr.write(`berth-ctr: task ${id} exit with non-zero exit code ${p.exitStatus}\n`);
      } catch (e) {
        failed = true;
        process.stderr.write(`berth-ctr: ${errorMessage(e)}\n`);
      }
    }
    if (failed) process.exitCode = 1;
  });
tasks
  .command('exec')
  .requiredOption('--exec-id <id>', 'the exec process id')
  .option('-t, --tty', 'allocate a terminal')
  .option('-d, --detach', 'do not attach')
  .option('--cwd <dir>', 'the working directory')
  .option('--env <KEY=VALUE>', 'an environment variable (repeatable)', (v: string, a: string[]) => [...a, v], [] as string[])
  .argument('<id>').argument('<cmd...>')
  .passThroughOptions()
  .action(async (id: string, cmd: string[], o: { execId: string; tty?: boolean; detach?: boolean; cwd?: string; env: string[] }) => {
    const c = cli();
    const ct = await c.call(c.containers, (x) => x.get, { namespace: ns(), id });
    const spec = JSON.parse(Buffer.from(ct.container?.specJson ?? []).toString('utf8') || '{}') as { process?: Record<string, unknown> };
    const tty = Boolean(o.tty);
    const proc = { ...(spec.process ?? {}), args: cmd, terminal: tty, ...(o.cwd ? { cwd: o.cwd } : {}) } as Record<string, unknown>;
    if (o.env.length) proc.env = [...((proc.env as string[] | undefined) ?? []), ...o.env];
    await c.call(c.tasks, (x) => x.exec, {
      namespace: ns(), containerId: id, execId: o.execId, processJson: Buffer.from(JSON.stringify(proc)), terminal: tty, stdin: !o.detach,
      rows: process.stdout.rows ?? 0, cols: process.stdout.columns ?? 0,
    });
    const start = (): Promise<unknown> => c.call(c.tasks, (x) => x.start, { namespace: ns(), containerId: id, execId: o.execId });
    if (o.detach) return void (await start());
    const code = await runAttached(id, o.execId, tty, start);
    await c.call(c.tasks, (x) => x.deleteProcess, { namespace: ns(), containerId: id, execId: o.execId }).catch(() => undefined);
    process.exitCode = code;
  });
tasks
  .command('attach').argument('<id>')
  .option('--exec-id <id>', 'attach to an exec\'d process', '')
  .action(async (id: string, o: { execId: string }) => {
    const c = cli();
    const r = await c.call(c.tasks, (x) => x.get, { namespace: ns(), containerId: id, execId: o.execId });
    const p = r.process!;
    if (p.status === Status.STATUS_STOPPED) {
      process.exitCode = p.exitStatus ?? 0;
      return;
    }
    process.exitCode = await runAttached(id, o.execId, Boolean(p.terminal), async () => undefined);
  });
tasks
  .command('ps').argument('<id>')
  .action(async (id: string) => {
    const c = cli();
    const r = await c.call(c.tasks, (x) => x.pids, { namespace: ns(), containerId: id });
    console.log(table(['PID', 'INFO'], r.processes.map((p) => [String(p.pid), p.execId ? `exec ${p.execId}` : '-'])));
  });
tasks.command('pause').argument('<id>').action(async (id: string) => {
  const c = cli();
  await c.call(c.tasks, (x) => x.pause, { namespace: ns(), containerId: id });
});
tasks.command('resume').argument('<id>').action(async (id: string) => {
  const c = cli();
  await c.call(c.tasks, (x) => x.resume, { namespace: ns(), containerId: id });
});
tasks
  .command('metrics').alias('metric').argument('<id...>')
  .addOption(new Option('--format <f>', 'table or json').choices(['table', 'json']).default('table'))
  .action(async (ids: string[], o: { format: string }) => {
    const c = cli();
    const r = await c.call(c.tasks, (x) => x.metrics, { namespace: ns(), containerIds: ids });
    if (o.format === 'json') {
      console.log(JSON.stringify(r.metrics.map((m) => ({
        id: m.containerId, timestamp: nsToIso(m.timestampNs), cpuUsageNs: String(m.cpuUsageNs), memoryUsageBytes: String(m.memoryUsageBytes),
        memoryLimitBytes: String(m.memoryLimitBytes), pidsCurrent: String(m.pidsCurrent), pidsLimit: String(m.pidsLimit),
      })), null, 2));
      return;
    }
    console.log(table(['ID', 'TIMESTAMP', 'CPU_NS', 'MEMORY_USAGE', 'MEMORY_LIMIT', 'PIDS'],
      r.metrics.map((m) => [m.containerId ?? '', nsToIso(m.timestampNs), String(m.cpuUsageNs), String(m.memoryUsageBytes), String(m.memoryLimitBytes), String(m.pidsCurrent)])));
  });

// --- events, namespaces

program
  .command('events')
  .description('print events as they happen: TIME NAMESPACE TOPIC EVENT')
  .option('--topic <t>', 'only this topic, or a prefix ending in /')
  .option('--container <id>', 'only events of this container')
  .option('--all-namespaces', 'events of every namespace (default: only -n)')
  .option('--since <seq>', 'first replay the kept events after this sequence number')
  .action(async (o: { topic?: string; container?: string; allNamespaces?: boolean; since?: string }) => {
    const c = cli();
    const filter = { namespace: o.allNamespaces ? '' : ns(), topic: o.topic ?? '', containerId: o.container ?? '' };
    const stream = c.events.subscribe({ filters: [filter], replay: o.since !== undefined, afterSeq: Number(o.since ?? 0) });
    await new Promise<void>((resolvePromise, reject) => {
      stream.on('data', (e: Envelope) => {
        const payload = e.event ? (e as unknown as Record<string, { toJSON?: () => unknown }>)[e.event] : undefined;
        const body = payload && typeof payload === 'object' && 'toJSON' in payload && payload.toJSON ? payload.toJSON() : payload;
        console.log(`${nsToIso(e.timestampNs)} ${e.namespace} ${e.topic} ${JSON.stringify({ seq: String(e.seq), containerId: e.containerId, ...(body as object) })}`);
      });
      stream.on('error', (e) => reject(e));
      stream.on('end', () => resolvePromise());
    });
  });

const namespaces = program.command('namespaces').alias('ns').alias('namespace').description('manage namespaces');
namespaces.command('ls').alias('list').option('-q, --quiet', 'print only the names').action(async (o: { quiet?: boolean }) => {
  const c = cli();
  const r = await c.call(c.namespaces, (x) => x.list, {});
  if (o.quiet) return r.namespaces.forEach((n) => console.log(n.name));
  console.log(table(['NAME', 'LABELS'], r.namespaces.map((n) => [n.name ?? '', Object.entries(n.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')])));
});
namespaces.command('create').argument('<name>').action(async (name: string) => {
  const c = cli();
  await c.call(c.namespaces, (x) => x.create, { namespace: { name } });
});
namespaces.command('rm').alias('remove').argument('<name...>').action(async (names: string[]) => {
  const c = cli();
  for (const name of names) await c.call(c.namespaces, (x) => x.delete, { name });
});

program
  .parseAsync(process.argv)
  .catch((e: unknown) => {
    process.stderr.write(`berth-ctr: ${errorMessage(e)}${isNotFound(e) ? '' : ''}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    client?.close();
    // Leave promptly: the terminal is restored and no call is pending.
    setImmediate(() => process.exit(process.exitCode ?? 0));
  });
