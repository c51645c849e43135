/**
 * The device tensors (GPU buffers) onnxruntime has handed a model and it has not disposed yet:
 * each is counted when a pass returns it and disposed when the model replaces it, so a leak shows
 * as a count that grows (`liveDeviceTensors`). Host tensors are the garbage collector's.
 */
import type * as ort from 'onnxruntime-node';

export class DeviceTensorLedger {
  /** device tensors held: a device-resident model's cache (2 per layer) between passes; 0 elsewhere */
  live = 0;

  /** count every device tensor among a pass's outputs */
  adopt(outputs: ort.InferenceSession.ReturnType): void {
    for (const t of Object.values(outputs)) if (t.location === 'gpu-buffer') this.live++;
  }

  /** dispose a device tensor no longer needed (a host tensor needs nothing) */
  drop(t: ort.Tensor): void {
    if (t.location !== 'gpu-buffer') return;
    t.dispose();
    this.live--;
  }
}
