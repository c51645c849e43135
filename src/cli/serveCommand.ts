/** `specdec serve`: start the server and print the URL with its access token. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_PAIR, REPO_ROOT } from './paths';
import { startServer } from './serve';

export function defaultDataDir(): string {
  if (process.platform === 'win32') return join(process.env.APPDATA ?? homedir(), 'SpecDec Studio');
  if (process.platform === 'darwin')
    return join(homedir(), 'Library', 'Application Support', 'SpecDec Studio');
  return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'specdec-studio');
}

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
