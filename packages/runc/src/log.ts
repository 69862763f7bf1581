import { appendFileSync, writeSync } from 'node:fs';

export type LogFormat = 'text' | 'json';
export type Level = 'debug' | 'info' | 'warning' | 'error';

/**
 * The runtime's log: runc's `--log` file in its `--log-format` (json lines with string
 * `level`, `msg` and `time`, which containerd reads back to show our errors). Synchronous, so
 * nothing is lost when the process exits right after; never touches process.stdout/stderr
 * streams (libuv would make the container's stdio non-blocking).
 */
export class Logger {
  constructor(
    private readonly path: string | undefined,
    private readonly format: LogFormat = 'text',
    private readonly debugEnabled = false,
  ) {}

  debug(msg: string): void {
    if (this.debugEnabled) this.write('debug', msg);
  }
  info(msg: string): void {
    this.write('info', msg);
  }
  warn(msg: string): void {
    this.write('warning', msg);
  }
  error(msg: string): void {
    this.write('error', msg);
  }

  private write(level: Level, msg: string): void {
    const time = new Date().toISOString();
    if (!this.path) {
      if (level === 'error' || level === 'warning' || this.debugEnabled) writeSync(2, `${level}: ${msg}\n`);
      return;
    }
    const line = this.format === 'json' ? JSON.stringify({ level, msg, time }) + '\n' : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
    try {
      appendFileSync(this.path, line);
    } catch {
      writeSync(2, line);
    }
  }
}
