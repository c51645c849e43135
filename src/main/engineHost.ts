/**
 * Main's side of the engine host: starts the utilityProcess, relays messages both ways (requests
 * validated before they reach it), and starts a fresh host when one dies.
 */
import { utilityProcess, type UtilityProcess } from 'electron';
import hostPath from './engineHostProcess?modulePath';
import probePath from '../core/model/providerProbeChild?modulePath';
import { HostRequest, type HostMessage } from '../shared/protocol';
import type { HostOptions } from '../core/host/engineHost';

export class EngineHostProcess {
  private child: UtilityProcess | null = null;
  private stopping = false;
  /** the host's last `ready`, replayed to a page that loads after the host started */
  private ready: HostMessage | null = null;

  constructor(
    private readonly options: HostOptions,
    private readonly deliver: (message: HostMessage) => void,
  ) {}

  start(): void {
    const child = utilityProcess.fork(hostPath, [], {
      serviceName: 'SpecDec Studio engine',
      env: {
        ...process.env,
        SPECDEC_HOST_OPTIONS: JSON.stringify({
          ...this.options,
          probeLauncher: { script: probePath, execArgv: [] },
        } satisfies HostOptions),
      },
      stdio: 'inherit',
    });
    child.on('message', (m: HostMessage) => {
      if (m.type === 'ready') this.ready = m;
      this.deliver(m);
    });
    child.on('exit', (code) => {
      if (this.child !== child || this.stopping) return;
      this.child = null;
      this.deliver({
        type: 'host-exit',
        message:
          code === 0
            ? 'the engine process exited'
            : `the engine process ended with code ${code} (a crash or out of memory)`,
      });
      this.start();
    });
    this.child = child;
  }

  /** send the last `ready` again (a page that just loaded missed it) */
  replayReady(): void {
    if (this.ready) this.deliver(this.ready);
  }

  /** forward a renderer request if it is well-formed; returns false when it was dropped */
  send(data: unknown): boolean {
    const parsed = HostRequest.safeParse(data);
    if (!parsed.success || !this.child) return false;
    this.child.postMessage(parsed.data);
    return true;
  }

  stop(): void {
    this.stopping = true;
    this.child?.kill();
    this.child = null;
  }
}
