/** The engine host in Electron's utilityProcess: model work never blocks the UI or main. */
import { startEngineHost, type HostOptions } from '../lab/host/engineHost';

const options = JSON.parse(process.env.SPECDEC_HOST_OPTIONS ?? '{}') as HostOptions;
const port = process.parentPort;
startEngineHost(
  {
    post: (m) => port.postMessage(m),
    onMessage: (listener) => port.on('message', (e) => listener(e.data)),
  },
  options,
);
