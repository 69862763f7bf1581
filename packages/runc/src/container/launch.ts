import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { RuntimeError } from '../errors.js';
import { initHelperPath } from '../native/paths.js';
import { decodeRecord, encodePlan, encodeRecord, type PlanRecord } from '../plan/records.js';

export interface LaunchOptions {
  plan: readonly PlanRecord[];
  /** The process's fds 0, 1, 2 and the preserved ones after them, as fd numbers of this process. */
  fds: readonly number[];
  /** Called when the process waits for prestart/createRuntime hooks; returns the state JSON. */
  onHooks?: (pid: number) => Promise<string>;
  /** Called with the pid as soon as the process exists (before it is ready). */
  onPid?: (pid: number) => void;
}

export interface Launched {
  pid: number;
  helper: ChildProcess;
  /** Foreground only: the process's status (code, or 128+signal) when it ends. */
  exited: Promise<number>;
}

/**
 * Spawns berth-runc-init with a plan and follows its reports (native/PROTOCOL.md) until the
 * process is ready. Rejects with the helper's own error message when set-up fails.
 */
export function launch(opts: LaunchOptions): Promise<Launched> {
  const controlFd = opts.fds.length;
  const helper = spawn(initHelperPath(), [], {
    stdio: [...opts.fds, 'pipe'],
    env: { BERTH_INIT_FD: String(controlFd) },
  });
  const control = helper.stdio[controlFd] as Socket;
  let resolveExit!: (status: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  return new Promise<Launched>((resolve, reject) => {
    let pid = 0;
    let settled = false;
    let failure: string | undefined;
    let buffered = '';
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      reject(new RuntimeError(message));
    };
    const handle = async (fields: string[]) => {
      const [kind, arg = ''] = fields;
      switch (kind) {
        case 'pid':
          pid = Number(arg);
          opts.onPid?.(pid);
          break;
        case 'hooks':
          try {
            const state = opts.onHooks ? await opts.onHooks(pid) : '{}';
            control.write(encodeRecord(['resume', state]));
          } catch (err) {
            failure = (err as Error).message;
            if (pid) killQuietly(pid);
            control.destroy();
          }
          break;
        case 'ready':
          if (!settled) {
            settled = true;
            resolve({ pid, helper, exited });
          }
          break;
        case 'error':
          failure = arg;
          break;
        case 'exit':
          resolveExit(Number(arg));
          break;
      }
    };
    control.setEncoding('latin1');
    control.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        void handle(decodeRecord(line));
      }
    });
    control.on('error', () => {});
    helper.on('error', (err) => fail(`cannot run ${initHelperPath()}: ${err.message}`));
    // The helper's last records may still be in the socket when 'exit' fires: judge on 'close',
    // which comes after both the exit and the end of its output.
    helper.on('close', (code, signal) => {
      const status = signal ? 128 + (signalNumber(signal) ?? 0) : (code ?? 0);
      resolveExit(status);
      fail(failure ?? `berth-runc-init ended (${signal ?? 'exit status ' + code}) before the container was ready`);
    });
    control.write(encodePlan(opts.plan));
  });
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function signalNumber(name: NodeJS.Signals): number | undefined {
  return constants.signals[name];
}
