// The container's log to stdout and stderr (berth logs). berthd sends runs of entries, many per
// message (LogsRequest.runs; an older berthd sends one entry per message, taken alike), and they
// are written as they come with back-pressure: a slow reader of our stdout slows the stream
// instead of filling memory.
import type { Ctx } from './context.js';

interface LogsMessage {
  stream?: string;
  data?: Uint8Array;
  runs?: { stream?: string; data?: Uint8Array }[];
}

/** Writes the log; with follow, until the container ends. Resolves once every byte is written. */
export function printLogs(ctx: Ctx, id: string, follow: boolean, o: { stdout: boolean; stderr: boolean }, extra: object = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = ctx.api().containers.logs({ id, follow, stdout: o.stdout, stderr: o.stderr, runs: true, ...extra });
    let full = 0; // outputs waiting for 'drain'
    const write = (stream: string | undefined, data: Uint8Array | undefined): void => {
      if (!data?.length) return;
      const w = stream === 'stderr' ? process.stderr : process.stdout;
      if (w.write(data)) return;
      if (full++ === 0) s.pause();
      w.once('drain', () => {
        if (--full === 0) s.resume();
      });
    };
    s.on('data', (m: LogsMessage) => {
      if (m.runs?.length) for (const r of m.runs) write(r.stream, r.data);
      else write(m.stream, m.data);
    });
    s.on('error', reject);
    // main exits the process at once: first let what is queued reach both outputs.
    s.on('end', () => process.stdout.write('', () => process.stderr.write('', () => resolve())));
  });
}
