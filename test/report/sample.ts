import type { RunReport, ShotReport } from '../../src/report/types.js';

/** A shot as the renderer would report it; override what a test cares about. */
export function shot(over: Partial<ShotReport> & { id: string }): ShotReport {
  return {
    key: over.key ?? over.id,
    variant: null,
    take: 1,
    mode: 'text_to_video',
    model: 'seedance-2-official',
    size: '480p',
    ratio: '16:9',
    prompt: `a prompt for ${over.id}`,
    seconds: 5,
    unit_price: 1,
    cost: 5,
    currency: 'CNY',
    status: 'done',
    cached: false,
    task_id: `task-${over.id}`,
    error: null,
    timings: {
      submitted_at: '2025-01-01T00:00:00.000Z',
      completed_at: '2025-01-01T00:01:00.000Z',
      downloaded_at: '2025-01-01T00:01:05.000Z',
    },
    file: `clips/${over.id}.mp4`,
    bytes: 1000,
    sha256: 'ab'.repeat(32),
    ...over,
  };
}

export function sampleReport(shots: ShotReport[], over: Partial<RunReport> = {}): RunReport {
  const count = (status: ShotReport['status']): number =>
    shots.filter((s) => s.status === status).length;
  return {
    version: 1,
    name: 'orange-cat-teaser',
    manifest: 'examples/teaser.yaml',
    generated_at: '2025-01-01T00:02:00.000Z',
    base_url: 'http://127.0.0.1:4010',
    simulated: true,
    shots,
    outputs: [],
    totals: {
      shots: shots.length,
      done: count('done'),
      failed: count('failed'),
      unknown: count('unknown'),
      pending: count('pending'),
      previewed_seconds: shots.reduce((sum, s) => sum + s.seconds, 0),
      submitted_seconds: shots
        .filter((s) => s.status !== 'pending')
        .reduce((sum, s) => sum + s.seconds, 0),
      previewed_cost: shots.reduce((sum, s) => sum + (s.cost ?? 0), 0),
      spent_cost: shots
        .filter((s) => s.status === 'done')
        .reduce((sum, s) => sum + (s.cost ?? 0), 0),
      currency: 'CNY',
    },
    ...over,
  };
}
