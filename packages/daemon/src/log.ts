/** berthd's leveled logger: JSON lines on stderr (it runs in the foreground; systemd keeps them). */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export class Logger {
  constructor(private readonly level: Level = 'info') {}
  private write(level: Level, msg: string, fields?: Record<string, unknown>): void {
    if (order[level] < order[this.level]) return;
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
  }
  debug(msg: string, f?: Record<string, unknown>): void { this.write('debug', msg, f); }
  info(msg: string, f?: Record<string, unknown>): void { this.write('info', msg, f); }
  warn(msg: string, f?: Record<string, unknown>): void { this.write('warn', msg, f); }
  error(msg: string, f?: Record<string, unknown>): void { this.write('error', msg, f); }
}

export function isLevel(s: string): s is Level {
  return s in order;
}
