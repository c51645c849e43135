/**
 * The engine host in a child process (serve mode). A process, not a worker thread: a worker
 * that dies during session.run takes the whole server down with it (onnxruntime-node's binding
 * aborts: "terminate called after throwing an instance of 'Napi::Error'"), while a child process
 * can crash, be killed or run out of memory and the server starts a fresh one.
 */
import { startEngineHost, type HostOptions } from '../lab/host/engineHost';
import type { HostMessage } from '../shared/protocol';

const send = process.send?.bind(process);
if (!send) throw new Error('hostProcess must be started with an IPC channel (child_process.fork)');
startEngineHost(
  {
    post: (m: HostMessage) => void send(m),
    onMessage: (listener) => process.on('message', listener),
  },
  JSON.parse(process.env.SPECDEC_HOST_OPTIONS ?? '{}') as HostOptions,
);
process.on('disconnect', () => process.exit(0));
