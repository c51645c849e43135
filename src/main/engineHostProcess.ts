/**
 * Main's side of the engine host: starts the utilityProcess, relays messages both ways (requests
 * validated before they reach it), and starts a fresh host when one dies.
 */
import { utilityProcess, type UtilityProcess } from 'electron';
import hostPath from './engineHostEntry?modulePath';
import probePath from '../core/model/providerProbeChild?modulePath';
import { parseHostRequest, type HostMessage } from '../shared/protocol';
import { RestartPolicy } from '../lab/host/restartPolicy';
import type { HostOptions } from '../lab/host/engineHost';

export class EngineHostProcess {
  private child: UtilityProcess | null = null;
  private stopping = false;
  /** the host's last `ready`, replayed to a page that loads after the host started */
  private ready: HostMessage | null = null;
  private readonly restarts = new RestartPolicy();
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: HostOptions,
    private readonly deliver: (message: HostMessage) => void,
  ) {}

  start(): void {
    this.restartTimer = null;
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
      if (m.type === 'ready') {
        this.ready = m;
        this.restarts.ready();
      }
      this.deliver(m);
    });
    child.on('exit', (code) => {
      if (this.child !== child || this.stopping) return;
      this.child = null;
      const delay = this.restarts.exited();
      this.deliver({
        type: 'host-exit',
        message:
          delay === null
            ? `the engine cannot start (it ended with code ${code} several times right after starting); run a sweep to try again, or see the terminal's output`
            : code === 0
              ? 'the engine process exited'
              : `the engine process ended with code ${code} (a crash or out of memory)`,
      });
      if (delay !== null) this.restartTimer = setTimeout(() => this.start(), delay);
    });
    this.child = child;
  }

  /** send the last `ready` again (a page that just loaded missed it) */
  replayReady(): void {
    if (this.ready) this.deliver(this.ready);
  }

  /** forward a renderer request if it is well-formed; returns false when it was dropped */
  send(data: unknown): boolean {
    const parsed = parseHostRequest(data);
    if (!parsed.ok) return false;
    if (!this.child) {
      // given up after repeated start-up deaths: a new request is a new try
      if (!this.restartTimer) {
        this.restarts.reset();
        this.start();
      }
      return false;
    }
    this.child.postMessage(parsed.request);
    return true;
  }

  stop(): void {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.child?.kill();
    this.child = null;
  }
}
