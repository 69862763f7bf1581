import { spawn } from 'node:child_process';
import { RuntimeError } from '../errors.js';
import type { Hook } from '../spec/types.js';

/** Runs one hook with the container state on stdin, as the spec says; rejects on failure or timeout. */
export function runHook(kind: string, hook: Hook, stateJson: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const [argv0, ...args] = hook.args?.length ? hook.args : [hook.path];
    const env = Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    const child = spawn(hook.path, args, { argv0: argv0!, env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
    const timer = hook.timeout ? setTimeout(() => child.kill('SIGKILL'), hook.timeout * 1000) : undefined;
    child.on('error', (err) => reject(new RuntimeError(`${kind} hook ${hook.path}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code === 0) return resolve();
      const why = signal === 'SIGKILL' && hook.timeout ? `timed out after ${hook.timeout}s` : signal ? `killed by ${signal}` : `exit status ${code}`;
      reject(new RuntimeError(`${kind} hook ${hook.path} failed: ${why}${stderr ? ': ' + stderr.trim() : ''}`));
    });
    child.stdin!.on('error', () => {}); // a hook that does not read its stdin is fine
    child.stdin!.end(stateJson);
  });
}

export async function runHooks(kind: string, hooks: readonly Hook[] | undefined, stateJson: string): Promise<void> {
  for (const hook of hooks ?? []) await runHook(kind, hook, stateJson);
}
