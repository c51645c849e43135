/**
 * The `probe` request, the step detail view's question: both models' top tokens at one position
 * of a run, under the run's decoding.
 */
import { probePosition } from '../../core/decoding/positionDetail';
import { checkRepetition } from '../../core/decoding/repetition';
import { checkSampling } from '../../core/decoding/sampling';
import { SpecDecError } from '../../core/errors';
import type { HostMessage, HostRequest } from '../../shared/protocol';
import type { ModelJob } from './modelWorkSlot';
import type { PairCache } from './pairCache';

type PositionDetailRequest = Extract<HostRequest, { type: 'probe' }>;

export class PositionDetailJob {
  constructor(
    private readonly pairs: PairCache,
    private readonly post: (message: HostMessage) => void,
  ) {}

  /** checks the decoding settings now (throws), and returns the detail to compute */
  prepare(req: PositionDetailRequest): ModelJob {
    if (req.sampling) checkSampling(req.sampling);
    if (req.repetition) checkRepetition(req.repetition);
    return (signal) => this.run(req, signal);
  }

  private async run(req: PositionDetailRequest, signal: AbortSignal): Promise<void> {
    const { pair } = await this.pairs.pairFor(
      req.requestId,
      req.pair,
      (fit) => {
        if (req.tokenIds.length >= fit.nPositions)
          throw new SpecDecError(
            'BAD_ARGUMENT',
            `That position is past these models' context (${fit.nPositions} tokens).`,
          );
      },
      signal,
    );
    const result = await probePosition(pair, req.tokenIds, {
      token: req.token,
      sampling: req.sampling,
      repetition: req.repetition,
    });
    this.post({ type: 'probe-result', requestId: req.requestId, result });
  }
}
