// A foreground `run` or `start -a` forwards the signals it gets to the container (Docker's
// --sig-proxy, non-TTY only): every catchable one but those a terminal or child sends for itself.
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGTSTP', 'SIGCONT', 'SIGTTIN', 'SIGTTOU', 'SIGVTALRM', 'SIGPROF', 'SIGPWR', 'SIGSYS', 'SIGTRAP', 'SIGXCPU', 'SIGXFSZ'];

/** Calls kill(sig) for each forwarded signal until the returned function is called. */
export function proxySignals(kill: (signal: string) => void): () => void {
  const handlers = FORWARDED.map((s) => {
    const h = (): void => kill(s);
    try {
      process.on(s, h);
    } catch {
      return undefined;
    }
    return [s, h] as const;
  }).filter((x): x is readonly [NodeJS.Signals, () => void] => x !== undefined);
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}
