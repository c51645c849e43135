/**
 * `specdec serve`: start the server and print the URL with its access token. SIGINT, SIGTERM
 * and SIGHUP close it: the clients, the port and the engine host (killed outright if it does not
 * end within a grace period, stuck in a long call), then exit 128 + the signal's number; so does
 * the end of the npm process that started it (wrapperWatch.ts).
 */
import { constants } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_PAIR, REPO_ROOT, defaultDataDir } from './paths';
import { startServer, type RunningServer } from './serve';
import { describeError } from '../core/errors';
import { followNpmWrapper } from './wrapperWatch';

export async function serveCommand(opts: {
  port: number;
  host: string;
  dataDir?: string;
  hubHost?: string;
}): Promise<void> {
  // Handlers first: a signal that arrives while the server starts, or the instant its URL is
  // out, still closes it (and the engine host it has started) instead of orphaning the host.
  type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
  let server: RunningServer | null = null;
  let stopping: StopSignal | null = null;
  const closeAndExit = (running: RunningServer, signal: StopSignal): void => {
    const exit = (): never => process.exit(128 + constants.signals[signal]);
    running.close().then(exit, (err: unknown) => {
      process.stderr.write(`serve: while closing: ${describeError(err)}\n`);
      exit();
    });
  };
  const stop = (signal: StopSignal): void => {
    // a second signal while closing changes nothing: close() already bounds its own time
    if (stopping) return;
    stopping = signal;
    if (server) closeAndExit(server, signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
  // npm's shell died of a signal it did not pass on: the wrapper is gone, so is serve
  followNpmWrapper(() => stop('SIGHUP'));

  server = await startServer({
    port: opts.port,
    host: opts.host,
    dataDir: opts.dataDir ?? defaultDataDir(),
    rendererDir: join(REPO_ROOT, 'out', 'renderer'),
    embeddedPair: EMBEDDED_PAIR,
    ...(opts.hubHost ? { hubHost: opts.hubHost } : {}),
  });
  if (stopping) return closeAndExit(server, stopping);
  process.stdout.write(`SpecDec Studio is serving at ${server.url}\n`);
  if (opts.host !== '127.0.0.1' && opts.host !== 'localhost') {
    process.stdout.write(
      'Warning: listening beyond this machine; anyone with the URL can run models here.\n',
    );
  }
}
