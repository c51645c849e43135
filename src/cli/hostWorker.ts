/** The engine host in a worker thread (serve mode). */
import { parentPort, workerData } from 'node:worker_threads';
import { startEngineHost, type HostOptions } from '../core/host/engineHost';

if (!parentPort) throw new Error('hostWorker must run in a worker thread');
const port = parentPort;
startEngineHost(
  { post: (m) => port.postMessage(m), onMessage: (listener) => port.on('message', listener) },
  workerData as HostOptions,
);
