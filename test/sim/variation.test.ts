import { describe, expect, it } from 'vitest';
import { clipSpec } from '../../src/sim/clips.js';
import { keepBody } from '../../src/sim/kept.js';
import { TaskBoard } from '../../src/sim/tasks.js';

function board(): TaskBoard {
  let n = 0;
  const random = () => (n = (n * 9301 + 49297) % 233280) / 233280;
  return new TaskBoard({
    latency: { min: 1, max: 1 },
    failRate: 0,
    maxConcurrent: 10,
    random,
    idRandom: random,
  });
}

describe('simulated renders of a repeated body', () => {
  const body = { model: 'seedance-2-official', prompt: 'same body, three takes' };
  const kept = keepBody(Buffer.from(JSON.stringify(body)), body);

  it('numbers each Idempotency-Key of a body in turn; a retry with its key repeats its render', () => {
    const b = board();
    const keys = ['take-1', 'take-2', 'take-1', null, 'take-3'];
    const tasks = keys.map((k, i) => b.submit(kept, 1000 + i, { idempotencyKey: k }));
    expect(tasks.map((t) => b.variation(t))).toEqual([1, 2, 1, 1, 3]);

    // A restarted simulator, given the same tasks back, draws the same renders.
    const again = board();
    again.restore([...tasks].reverse());
    expect(tasks.map((t) => again.variation(again.tasks.get(t.id)!))).toEqual([1, 2, 1, 1, 3]);
  });

  it('gives each variation its own clip spec', () => {
    expect(clipSpec(body).variation).toBe(1);
    expect(clipSpec(body, 2)).toEqual({ ...clipSpec(body), variation: 2 });
  });

  it('counts a body whose content-addressed assets were served from another port as the same body', () => {
    const asset = `${'ab'.repeat(32)}.png`;
    const at = (port: number) => {
      const b = { ...body, images: [`http://127.0.0.1:${port}/assets/${asset}`] };
      return keepBody(Buffer.from(JSON.stringify(b)), b);
    };
    const earlier = board();
    const first = earlier.submit(at(40001), 1000, { idempotencyKey: 'take-1' });
    // A later process: another port, the tasks of the earlier one restored.
    const later = board();
    later.restore([first]);
    const next = later.submit(at(40002), 2000, { idempotencyKey: 'take-2' });
    expect([later.variation(later.tasks.get(first.id)!), later.variation(next)]).toEqual([1, 2]);
    // Another file (another hash) is another body.
    const other = { ...body, images: [`http://127.0.0.1:40002/assets/${'cd'.repeat(32)}.png`] };
    const third = later.submit(keepBody(Buffer.from(JSON.stringify(other)), other), 3000, {
      idempotencyKey: 'take-3',
    });
    expect(later.variation(third)).toBe(1);
  });
});
