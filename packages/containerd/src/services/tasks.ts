// berth.tasks.v1.Tasks over the task manager; Attach proxies the shim's attach stream.
import * as grpc from '@grpc/grpc-js';
import {
  Process, Status, WaitResponse, type AttachRequest, type AttachResponse, type IAttachResponse, type TasksServer,
} from '@berth/api/berth/tasks/v1';
import type * as shimv1 from '@berth/api/berth/shim/v1';
import { InvalidArgumentError, errorMessage, toServiceError } from '@berth/api/errdefs';
import { fromLong, toLong, toNum } from '../long.js';
import type { ProcessRecord, TaskRecord } from '../metadata/db.js';
import { nowNs } from '../metadata/db.js';
import type { ExitInfo, TaskManager } from '../runtime/task-manager.js';
import { ready } from '../runtime/shim-client.js';
import { namespaceOf, unary, validId } from './handler.js';

const STATUS: Record<ProcessRecord['status'], Status> = {
  unknown: Status.STATUS_UNKNOWN, created: Status.STATUS_CREATED, running: Status.STATUS_RUNNING,
  paused: Status.STATUS_PAUSED, stopped: Status.STATUS_STOPPED,
};

export function processToPb(t: TaskRecord, p: ProcessRecord): Process {
  return Process.create({
    containerId: p.containerId, execId: p.execId, pid: p.pid, status: STATUS[p.status], terminal: p.terminal,
    exitStatus: p.exitStatus, exitSignal: p.exitSignal, exitedAtNs: toLong(p.exitedAt), oomKilled: p.oomKilled, reason: p.reason,
    bundle: t.bundle, logPath: t.logPath, shimPid: t.shimPid, shimAddress: t.shimAddress, createdAtNs: toLong(t.createdAt),
  });
}

const exitToPb = (e: ExitInfo): WaitResponse => WaitResponse.create({
  exitStatus: e.exitStatus, exitSignal: e.exitSignal, exitedAtNs: toLong(e.exitedAt), oomKilled: e.oomKilled, reason: e.reason,
});

export function tasksService(tm: TaskManager): TasksServer {
  const ns = namespaceOf;
  return {
    create: unary(async (r) => {
      const res = await tm.create({
        namespace: ns(r.namespace), containerId: validId(r.containerId), terminal: r.terminal, stdin: r.stdin, stdinOnce: r.stdinOnce,
        rows: r.rows, cols: r.cols, log: r.log ? { path: r.log.path ?? '', maxSize: toNum(r.log.maxSize as never), maxFiles: r.log.maxFiles ?? 0 } : undefined,
      });
      return { containerId: r.containerId, pid: res.pid };
    }),
    start: unary(async (r) => tm.start(ns(r.namespace), validId(r.containerId), r.execId)),
    delete: unary(async (r) => {
      const n = ns(r.namespace);
      const { task } = tm.get(n, validId(r.containerId), '');
      const p = await tm.delete(n, r.containerId, r.force);
      return { process: processToPb(task, p) };
    }),
    deleteProcess: unary(async (r) => {
      const n = ns(r.namespace);
      const { task } = tm.get(n, validId(r.containerId), '');
      return { process: processToPb(task, await tm.deleteProcess(n, r.containerId, r.execId)) };
    }),
    get: unary((r) => {
      const { task, process } = tm.get(ns(r.namespace), validId(r.containerId), r.execId);
      return { process: processToPb(task, process) };
    }),
    list: unary((r) => ({ tasks: tm.list(ns(r.namespace)).map(({ task, process }) => processToPb(task, process)) })),
    kill: unary(async (r) => {
      await tm.kill(ns(r.namespace), validId(r.containerId), r.execId, r.signal || 15, r.all);
      return {};
    }),
    exec: unary(async (r) => {
      await tm.exec(ns(r.namespace), validId(r.containerId), validId(r.execId, 'exec id'), r.processJson, r.terminal, r.stdin, r.rows, r.cols);
      return {};
    }),
    resizePty: unary(async (r) => {
      await tm.resizePty(ns(r.namespace), validId(r.containerId), r.execId, r.rows, r.cols);
      return {};
    }),
    closeIO: unary(async (r) => {
      if (r.stdin) await tm.closeIO(ns(r.namespace), validId(r.containerId), r.execId);
      return {};
    }),
    pids: unary(async (r) => ({ processes: await tm.pids(ns(r.namespace), validId(r.containerId)) })),
    pause: unary(async (r) => {
      await tm.pause(ns(r.namespace), validId(r.containerId));
      return {};
    }),
    resume: unary(async (r) => {
      await tm.resume(ns(r.namespace), validId(r.containerId));
      return {};
    }),
    metrics: unary(async (r) => {
      const n = ns(r.namespace);
      const ids = r.containerIds.length ? r.containerIds : tm.list(n).filter((t) => t.process.status !== 'stopped').map((t) => t.task.containerId);
      const metrics = await Promise.all(ids.map(async (id) => {
        const s = await tm.metrics(n, validId(id));
        return {
          containerId: id, timestampNs: toLong(nowNs()), cpuUsageNs: s.cpuUsageNs, memoryUsageBytes: s.memoryUsageBytes,
          memoryLimitBytes: s.memoryLimitBytes, pidsCurrent: s.pidsCurrent, pidsLimit: s.pidsLimit, rawJson: s.rawJson,
        };
      }));
      return { metrics };
    }),
    wait: (call, cb) => {
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort());
      Promise.resolve()
        .then(() => tm.wait(ns(call.request.namespace), validId(call.request.containerId), call.request.execId, ac.signal))
        .then((e) => cb(null, exitToPb(e)), (e: unknown) => cb(toServiceError(e) as grpc.ServiceError));
    },
    attach: (call) => attach(tm, call),
  };
}

/** How long after the start reaches a shim of protocol 1 (no `attached` answer) the attach counts as registered. */
const OLD_SHIM_ATTACH_SETTLE_MS = 50;

/**
 * Proxies one attach stream: client ⇄ berth-containerd ⇄ shim. The first answer is `attached`
 * (the shim's, passed on; for a shim of protocol 1, sent a moment after the start reached it),
 * announced by the `berth-attach-ack` header sent at once (tasks.proto).
 */
function attach(tm: TaskManager, call: grpc.ServerDuplexStream<AttachRequest, IAttachResponse>): void {
  const md = new grpc.Metadata();
  md.set('berth-attach-ack', '1');
  call.sendMetadata(md);
  let upstream: grpc.ClientDuplexStream<shimv1.IAttachRequest, shimv1.AttachResponse> | undefined;
  let done = false;
  const finish = (err?: unknown): void => {
    if (done) return;
    done = true;
    upstream?.cancel();
    if (err) call.destroy(Object.assign(new Error(errorMessage(err)), toServiceError(err)));
    else call.end();
  };
  const pending: AttachRequest[] = [];
  const forward = (m: AttachRequest): void => {
    if (!upstream) {
      pending.push(m);
      return;
    }
    if (m.request === 'stdin') upstream.write({ stdin: m.stdin });
    else if (m.request === 'closeStdin') upstream.write({ closeStdin: true });
    else if (m.request === 'resize' && m.resize) upstream.write({ resize: { execId: m.resize.execId, rows: m.resize.rows, cols: m.resize.cols } });
  };
  let started = false;
  call.on('data', (m: AttachRequest) => {
    if (started) return forward(m);
    started = true;
    if (m.request !== 'start' || !m.start) return finish(new InvalidArgumentError('attach: the first message must be start'));
    const s = m.start;
    Promise.resolve()
      .then(() => tm.shimFor(namespaceOf(s.namespace), validId(s.containerId), s.execId ?? ''))
      .then((conn) => {
        if (done) return;
        upstream = conn.client.attach(ready());
        upstream.on('data', (o: shimv1.AttachResponse) => {
          let out: IAttachResponse | undefined;
          if (o.output === 'attached') out = { attached: {} };
          else if (o.output === 'stdout') out = { stdout: o.stdout };
          else if (o.output === 'stderr') out = { stderr: o.stderr };
          else if (o.output === 'exit' && o.exit) {
            out = { exit: { exitStatus: o.exit.exitStatus, exitSignal: o.exit.signal, exitedAtNs: toLong(fromLong(o.exit.exitedAtNs as never)), oomKilled: o.exit.oomKilled } };
          }
          if (out && !done) call.write(out);
        });
        upstream.on('end', () => finish());
        upstream.on('error', (e) => finish((e as grpc.ServiceError).code === grpc.status.CANCELLED ? undefined : e));
        upstream.write({ start: { execId: s.execId, stdin: s.stdin, stdout: s.stdout, stderr: s.stderr } });
        if (conn.protocol < 2) setTimeout(() => { if (!done) call.write({ attached: {} }); }, OLD_SHIM_ATTACH_SETTLE_MS);
        for (const p of pending.splice(0)) forward(p);
        if (clientEnded) upstream.end();
      })
      .catch((e: unknown) => finish(e));
  });
  let clientEnded = false;
  call.on('end', () => {
    // The client's side ended: half-close the shim's side (its stdin is not closed unless asked).
    clientEnded = true;
    if (upstream) upstream.end();
    else if (!started) finish();
  });
  call.on('cancelled', () => finish());
  call.on('error', () => finish());
}
