import { describe, expect, it } from 'vitest';
import { shotEvent, type RenderEvent } from '../../src/render/events.js';

describe('shotEvent', () => {
  it('stamps a phase event with the shot, its key and the time, keeping its type', () => {
    const e: RenderEvent = shotEvent({ shot: 's01@wide', key: 'k' }, 42, {
      type: 'pending',
      taskId: 't1',
      reason: 'deadline',
    });
    expect(e).toEqual({
      type: 'pending',
      taskId: 't1',
      reason: 'deadline',
      at: 42,
      shot: 's01@wide',
      key: 'k',
    });
    // @ts-expect-error a field of another event type is refused: the union stays discriminated
    shotEvent({ shot: 's01', key: 'k' }, 0, { type: 'submitting', taskId: 't1' });
    // @ts-expect-error a reason the event does not have is refused
    shotEvent({ shot: 's01', key: 'k' }, 0, { type: 'pending', taskId: 't1', reason: 'tired' });
  });
});
