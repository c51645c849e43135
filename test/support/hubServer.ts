/**
 * A stand-in for the Hugging Face Hub inside the test suite: serves model folders in the Hub's
 * URL layout, `/{owner}/{name}/resolve/{revision}/{file}`, with the Range requests transformers.js
 * uses for metadata, a log of every request, and faults on demand (a file cut off halfway, a slow
 * line to cancel during).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export interface HubServer {
  /** e.g. http://127.0.0.1:40123/ */
  url: string;
  /** "METHOD /path" of every request, in order; " [range]" marks a ranged (metadata) request */
  requests: string[];
  /** files (repo-relative, e.g. "onnx/model.onnx") sent cut off at half their length */
  truncate: Set<string>;
  /** when set, bodies are sent at about this many bytes per second */
  throttleBytesPerS: number | null;
  close(): Promise<void>;
}

/** `repos` maps a repo id ("specdec/brown-target") to the folder it serves. */
export async function startHubServer(repos: Record<string, string>): Promise<HubServer> {
  const hub: Omit<HubServer, 'url' | 'close'> = {
    requests: [],
    truncate: new Set(),
    throttleBytesPerS: null,
  };
  const server: Server = createServer((req, res) => {
    hub.requests.push(`${req.method} ${req.url}${req.headers.range ? ' [range]' : ''}`);
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(decodeURI(req.url ?? ''));
    const dir = m ? repos[m[1]!] : undefined;
    const file = m?.[3] ?? '';
    const path = dir ? normalize(join(dir, file)) : '';
    if (!dir || !path.startsWith(dir) || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
      return;
    }
    const size = statSync(path).size;
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(Number(range[2]), size - 1);
      res.writeHead(206, {
        'content-length': String(end - start + 1),
        'content-range': `bytes ${start}-${end}/${size}`,
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(path, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { 'content-length': String(size) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const cut = hub.truncate.has(file);
    const stream = createReadStream(path, cut ? { start: 0, end: Math.floor(size / 2) } : {});
    if (hub.throttleBytesPerS === null && !cut) {
      stream.pipe(res);
      return;
    }
    // Chunk by chunk, pausing to hold the rate; a cut-off file ends with the socket destroyed.
    stream.on('data', (chunk) => {
      res.write(chunk);
      if (hub.throttleBytesPerS !== null) {
        stream.pause();
        setTimeout(() => stream.resume(), (chunk.length / hub.throttleBytesPerS) * 1000);
      }
    });
    stream.on('end', () => (cut ? res.destroy() : res.end()));
    res.on('close', () => stream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(hub, {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as HubServer;
}
