/**
 * The host's dispatch: each protocol request (src/shared/protocol.ts) goes to the job that
 * answers it, and a failure goes back as an error. It owns no state of its own.
 */
import { parseHostRequest, type HostMessage, type HostRequest } from '../../shared/protocol';
import type { DownloadJob } from './downloadJob';
import { errorReply } from './errorReply';
import type { HistoryRequests } from './historyRequests';
import type { LiveSession } from './liveSession';
import type { ModelJob, ModelWorkSlot } from './modelWorkSlot';
import type { PositionDetailJob } from './positionDetailJob';
import type { SweepJob } from './sweepJob';

export interface HostJobs {
  modelWork: ModelWorkSlot;
  sweep: SweepJob;
  live: LiveSession;
  positionDetail: PositionDetailJob;
  download: DownloadJob;
  history: HistoryRequests;
}

/** the model jobs in words, for "the engine is busy with ..." */
const JOB_NAMES = {
  sweep: 'a sweep',
  download: 'a download',
  'live-start': 'a step-by-step run',
  'live-next': 'a step-by-step run',
  probe: 'a look at one position',
} as const;

export class HostDispatcher {
  constructor(
    private readonly jobs: HostJobs,
    private readonly post: (message: HostMessage) => void,
    /** serve: errors say nothing about the folders of this machine */
    private readonly remoteClients: boolean,
  ) {}

  /** one message from a client, as it came */
  receive(data: unknown): void {
    const parsed = parseHostRequest(data);
    if (!parsed.ok) {
      this.post({
        type: 'error',
        requestId: parsed.requestId,
        code: 'BAD_REQUEST',
        message: parsed.message,
      });
      return;
    }
    const { requestId } = parsed.request;
    this.handle(parsed.request).catch((err: unknown) =>
      this.post(errorReply(requestId, err, this.remoteClients)),
    );
  }

  private async handle(req: HostRequest): Promise<void> {
    const { history, modelWork } = this.jobs;
    switch (req.type) {
      case 'cancel':
        return modelWork.cancel(req.requestId);
      case 'history-list':
        return history.list(req.requestId);
      case 'history-get':
        return history.open(req.requestId, req.id);
      case 'history-run':
        return history.runEvents(req.requestId, req.id, req.runId);
      case 'history-rename':
        return history.rename(req.requestId, req.id, req.name);
      case 'history-delete':
        return history.remove(req.requestId, req.id);
      case 'attach':
        return this.attach(req.requestId, false);
    }
    // Run pressed in a second window while a sweep runs: that window is shown the running
    // sweep (and told its own was not started) rather than only that the engine is busy.
    if (req.type === 'sweep' && this.jobs.sweep.isRunning) return this.attach(req.requestId, true);
    // What the request runs, checked first: a request refused for what it asks never holds
    // the engine, even for the next message of the same batch.
    return modelWork.run(req.requestId, JOB_NAMES[req.type], this.modelJob(req));
  }

  /** the running sweep (or none) to the client that asked; `refused`: its own sweep was not run */
  private attach(requestId: string, refused: boolean): void {
    this.post({ type: 'sweep-attach', requestId, sweep: this.jobs.sweep.running(), refused });
  }

  private modelJob(req: Extract<HostRequest, { type: keyof typeof JOB_NAMES }>): ModelJob {
    switch (req.type) {
      case 'sweep':
        return this.jobs.sweep.prepare(req);
      case 'live-start':
        return this.jobs.live.prepareStart(req);
      case 'live-next':
        return this.jobs.live.prepareNext(req);
      case 'probe':
        return this.jobs.positionDetail.prepare(req);
      case 'download':
        return this.jobs.download.prepare(req);
    }
  }
}
