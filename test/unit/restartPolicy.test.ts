/** When an engine host is started again: at once after it had started, with backoff before. */
import { describe, expect, it } from 'vitest';
import { RestartPolicy } from '../../src/lab/host/restartPolicy';

describe('RestartPolicy', () => {
  it('restarts a host that had started at once, however often it dies', () => {
    const p = new RestartPolicy(500, 4);
    for (let i = 0; i < 10; i++) {
      p.ready();
      expect(p.exited()).toBe(0);
    }
  });

  it('backs off a host that dies before it is ready, then gives up until asked again', () => {
    const p = new RestartPolicy(500, 4);
    expect([p.exited(), p.exited(), p.exited(), p.exited(), p.exited()]).toEqual([
      500,
      1000,
      2000,
      4000,
      null,
    ]);
    p.reset();
    expect(p.exited()).toBe(500);
    // one that finally starts is healthy again
    p.ready();
    expect(p.exited()).toBe(0);
    expect(p.exited()).toBe(500);
  });
});
