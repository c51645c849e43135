/** `specdec serve`: start the server and print the URL with its access token. */
import { join } from 'node:path';
import { EMBEDDED_PAIR, REPO_ROOT, defaultDataDir } from './paths';
import { startServer } from './serve';

export async function serveCommand(opts: {
  port: number;
  host: string;
  dataDir?: string;
  hubHost?: string;
}): Promise<void> {
  const server = await startServer({
    port: opts.port,
    host: opts.host,
    dataDir: opts.dataDir ?? defaultDataDir(),
    rendererDir: join(REPO_ROOT, 'out', 'renderer'),
    embeddedPair: EMBEDDED_PAIR,
    ...(opts.hubHost ? { hubHost: opts.hubHost } : {}),
  });
  process.stdout.write(`SpecDec Studio is serving at ${server.url}\n`);
  if (opts.host !== '127.0.0.1' && opts.host !== 'localhost') {
    process.stdout.write(
      'Warning: listening beyond this machine; anyone with the URL can run models here.\n',
    );
  }
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
