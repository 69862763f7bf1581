/**
 * Log lines as berth.engine.v1 LogsResponse runs: consecutive entries of one stream joined into
 * one byte string, so a message carries thousands of lines and the text is encoded to UTF-8 once
 * per run instead of once per line. The bytes are exactly the entries' own (log_b64's when given),
 * each prefixed with its RFC 3339 nano time and a space when asked (`docker logs -t`).
 */
import type { LogLine } from './json-lines.js';
import { streamOf } from './json-lines.js';
import type { LogTimes } from './log-time.js';

export interface LogRun {
  stream: 'stdout' | 'stderr';
  data: Buffer;
  lastTimeNs: string;
}

export interface RunOptions {
  stdout: boolean;
  stderr: boolean;
  timestamps: boolean;
}

export function toRuns(lines: LogLine[], o: RunOptions, times: LogTimes): LogRun[] {
  const runs: LogRun[] = [];
  let stream: 'stdout' | 'stderr' | undefined;
  let parts: Buffer[] = [];
  let text = '';
  let last: LogLine | undefined;
  const flush = (): void => {
    if (!stream || !last) return;
    if (text) parts.push(Buffer.from(text, 'utf8'));
    runs.push({ stream, data: parts.length === 1 ? parts[0]! : Buffer.concat(parts), lastTimeNs: last.time ? times.ns(last.time).toString() : '0' });
    parts = [];
    text = '';
    last = undefined;
  };
  for (const l of lines) {
    const s = streamOf(l);
    if (s === 'stdout' ? !o.stdout : !o.stderr) continue;
    if (s !== stream) {
      flush();
      stream = s;
    }
    last = l;
    if (o.timestamps) text += `${times.rfc3339(l.time ?? '')} `;
    if (l.log_b64) {
      // Not UTF-8: the exact bytes, apart from the text around them.
      if (text) parts.push(Buffer.from(text, 'utf8'));
      text = '';
      parts.push(Buffer.from(l.log_b64, 'base64'));
    } else if (typeof l.log === 'string') {
      text += l.log;
    }
  }
  flush();
  return runs;
}
