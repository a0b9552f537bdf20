import { describe, expect, it } from 'vitest';
import { BODY, KEY, get, manualClock, post, render, sim } from './helpers.js';

async function errorOf(res: Response) {
  const json = (await res.json()) as {
    error: { message: string; type: string; code: string; param?: string | null };
  };
  return { status: res.status, ...json.error };
}

describe('auth', () => {
  it('answers 401 without an Authorization header', async () => {
    const { url } = await sim();
    const res = await fetch(`${url}/v1/videos/task_x`);
    const error = await errorOf(res);
    expect(error).toMatchObject({
      status: 401,
      type: 'authentication_error',
      code: 'missing_api_key',
    });
    expect(error.message).toMatch(/Bearer/);
  });

  it('answers 401 to a wrong key, a wrong scheme and an empty token', async () => {
    const { url } = await sim();
    for (const authorization of ['Bearer wrong', `Basic ${KEY}`, 'Bearer ', KEY]) {
      const error = await errorOf(await post(url, BODY, { authorization }));
      expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' });
    }
    expect((await sim()).ledger().totals.submissions).toBe(0);
  });

  it('takes any non-empty token when no key is set, but still needs the header', async () => {
    const { url } = await sim({ apiKey: undefined });
    expect((await post(url, BODY, { authorization: 'Bearer anything' })).status).toBe(200);
    expect((await fetch(`${url}/v1/videos/task_x`)).status).toBe(401);
  });
});

describe('request validation (one rule set with the manifest validator)', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['missing model', { prompt: 'x' }, 'model'],
    ['unknown model', { ...BODY, model: 'sora' }, 'model'],
    ['empty prompt', { ...BODY, prompt: '' }, 'prompt'],
    ['prompt over 2500 code points', { ...BODY, prompt: '猫'.repeat(2501) }, 'prompt'],
    ['duration out of range', { ...BODY, duration: 3 }, 'duration'],
    ['fractional duration', { ...BODY, duration: 4.5 }, 'duration'],
    ['size', { ...BODY, size: '1080p' }, 'size'],
    ['ratio', { ...BODY, metadata: { ratio: '2:1' } }, 'metadata.ratio'],
    ['boolean flag', { ...BODY, metadata: { generate_audio: 'no' } }, 'metadata.generate_audio'],
    [
      'webhook not https (plain http only on loopback)',
      { ...BODY, metadata: { webhook_url: 'http://hooks.example.com/x' } },
      'metadata.webhook_url',
    ],
    ['bad image URL', { ...BODY, images: ['file:///cat.jpg'] }, 'images.0'],
    [
      'first_last_frame needs 2 images',
      { ...BODY, images: ['https://e.com/a.jpg'], metadata: { action: 'first_last_frame' } },
      'images',
    ],
    ['unknown action', { ...BODY, metadata: { action: 'dance' } }, 'metadata.action'],
    [
      'too many multi_ref images',
      { ...BODY, images: Array.from({ length: 10 }, (_, i) => `https://e.com/${i}.png`) },
      'images',
    ],
    [
      'videos outside multi_ref',
      { ...BODY, metadata: { video_urls: ['https://e.com/v.mp4'] } },
      'metadata.video_urls',
    ],
    [
      'web_search with images',
      { ...BODY, images: ['https://e.com/a.jpg'], metadata: { web_search: true } },
      'metadata.web_search',
    ],
    ['asset:// on the standard model', { ...BODY, images: ['asset://asset-1'] }, 'images.0'],
    ['reference to a missing image', { ...BODY, prompt: 'use @image_file_2' }, 'prompt'],
  ];
  it.each(cases)('answers 400 naming the field: %s', async (_name, body, param) => {
    const { url } = await sim();
    const error = await errorOf(await post(url, body));
    expect(error).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_parameter',
      param,
    });
    expect(error.message.length).toBeGreaterThan(5);
  });

  it('accepts what the reference accepts: asset:// on the fast model, multi_ref with action', async () => {
    const { url } = await sim();
    const fast = {
      model: 'seedance-2-official2-fast',
      prompt: 'use @image_file_1',
      images: ['asset://asset-2026character'],
    };
    expect((await post(url, { ...fast, metadata: { action: 'multi_ref' } })).status).toBe(200);
    expect(
      (await post(url, { ...BODY, images: ['https://e.com/a.jpg', 'https://e.com/b.jpg'] })).status,
    ).toBe(200);
  });

  it('answers 400 to a body that is not JSON, not an object, or not sent as JSON', async () => {
    const { url } = await sim();
    expect(await errorOf(await post(url, '{"model":'))).toMatchObject({
      status: 400,
      code: 'invalid_json',
    });
    expect(await errorOf(await post(url, '[1,2]'))).toMatchObject({
      status: 400,
      code: 'invalid_parameter',
      param: null,
    });
    const plain = await post(url, JSON.stringify(BODY), { 'content-type': 'text/plain' });
    expect(await errorOf(plain)).toMatchObject({ status: 400, code: 'invalid_content_type' });
  });
});

describe('routes', () => {
  it('answers 404 to an unknown task and an unknown route, 405 to a wrong method', async () => {
    const { url } = await sim();
    expect(await errorOf(await get(url, 'task_nope'))).toMatchObject({
      status: 404,
      code: 'not_found',
    });
    const unknown = await fetch(`${url}/v2/things`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(await errorOf(unknown)).toMatchObject({ status: 404, code: 'not_found' });
    const wrong = await fetch(`${url}/v1/videos`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(await errorOf(wrong)).toMatchObject({ status: 405, code: 'method_not_allowed' });
    const del = await fetch(`${url}/v1/videos/task_x`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(del.status).toBe(405);
  });
});

describe('task lifecycle', () => {
  it('answers the submit exactly as the reference shows', async () => {
    const clock = manualClock();
    const { url } = await sim({ clock: clock.now, latency: { min: 10, max: 10 } });
    const res = await post(url, BODY);
    expect(res.status).toBe(200);
    const task = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(task).sort()).toEqual([
      'created_at',
      'id',
      'model',
      'object',
      'progress',
      'status',
    ]);
    expect(task).toMatchObject({
      object: 'video',
      model: BODY.model,
      status: 'queued',
      progress: 0,
      created_at: clock.now() / 1000,
    });
    expect(task.id).toMatch(/^task_[a-z0-9]{12}$/);
  });

  it('goes queued (0..20) -> in_progress (30) -> completed (100) with the time', async () => {
    const clock = manualClock();
    const { url } = await sim({ clock: clock.now, latency: { min: 10, max: 10 } });
    const { id } = (await (await post(url, BODY)).json()) as { id: string };
    const seen: [string, number][] = [];
    for (let t = 0; t <= 11; t++) {
      const task = (await (await get(url, id)).json()) as { status: string; progress: number };
      seen.push([task.status, task.progress]);
      clock.advance(1);
    }
    expect(seen.slice(0, 3)).toEqual([
      ['queued', 0],
      ['queued', 6],
      ['queued', 13],
    ]);
    expect(seen.slice(3, 10).every(([s, p]) => s === 'in_progress' && p === 30)).toBe(true);
    expect(seen[10]).toEqual(['completed', 100]);
    const done = (await (await get(url, id)).json()) as Record<string, unknown>;
    expect(done).toMatchObject({ completed_at: (Date.UTC(2026, 0, 1) + 10_000) / 1000 });
    expect((done.metadata as { url: string }).url).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:\\d+/videos/${id}\\.mp4$`),
    );
    expect(done).not.toHaveProperty('error');
  });

  it('completes at the first poll with latency 0', async () => {
    const { url } = await sim({ latency: 0 });
    const { id } = (await (await post(url, BODY)).json()) as { id: string };
    expect(await (await get(url, id)).json()).toMatchObject({ status: 'completed', progress: 100 });
  });

  it('ends failed tasks with a content_filter error and no url', async () => {
    const { url } = await sim({ failRate: 1 });
    const task = await render(url);
    expect(task).toMatchObject({
      status: 'failed',
      progress: 100,
      error: { code: 'content_filter' },
    });
    expect(typeof (task.error as { message: string }).message).toBe('string');
    expect(task).not.toHaveProperty('metadata');
  });

  it('keeps tasks beyond max-concurrent queued until a slot frees', async () => {
    const clock = manualClock();
    const { url } = await sim({
      clock: clock.now,
      latency: { min: 10, max: 10 },
      maxConcurrent: 2,
    });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(((await (await post(url, BODY)).json()) as { id: string }).id);
    const statuses = async () =>
      Promise.all(
        ids.map(
          async (id) => (await (await get(url, id)).json()) as { status: string; progress: number },
        ),
      );
    clock.advance(5);
    let now = await statuses();
    expect(now.map((t) => t.status)).toEqual([
      'in_progress',
      'in_progress',
      'queued',
      'queued',
      'queued',
    ]);
    expect(now.slice(2).every((t) => t.progress === 0)).toBe(true);
    clock.advance(5); // t=10: the first two end, the next two start
    now = await statuses();
    expect(now.map((t) => t.status)).toEqual([
      'completed',
      'completed',
      'queued',
      'queued',
      'queued',
    ]);
    expect(now[2]?.progress).toBe(0);
    clock.advance(5);
    now = await statuses();
    expect(now.map((t) => t.status)).toEqual([
      'completed',
      'completed',
      'in_progress',
      'in_progress',
      'queued',
    ]);
    clock.advance(10); // t=25: the fifth started at 20, runs until 30
    now = await statuses();
    expect(now.map((t) => t.status)).toEqual([
      'completed',
      'completed',
      'completed',
      'completed',
      'in_progress',
    ]);
    clock.advance(5);
    expect((await statuses()).every((t) => t.status === 'completed')).toBe(true);
  });

  it('draws the same ids and outcomes under the same seed', async () => {
    const run = async () => {
      const { url } = await sim({ seed: 7, failRate: 0.5 });
      const out: string[] = [];
      for (let i = 0; i < 6; i++) {
        const task = await render(url);
        out.push(`${String(task.id)}:${String(task.status)}`);
      }
      return out;
    };
    expect(await run()).toEqual(await run());
  });
});

describe('ledger', () => {
  it('lists every accepted submission and bills completed tasks only', async () => {
    const { url, ledger } = await sim({ failRate: 0.5, seed: 3 });
    const bodies = [4, 5, 6, 7, 8, 9, 10, 11].map((duration) => ({ ...BODY, duration }));
    const ends = [];
    for (const body of bodies) ends.push(await render(url, body));
    await post(url, { ...BODY, duration: 99 }); // rejected: not in the ledger
    await post(url, { ...BODY, duration: 12 }, { 'idempotency-key': 'shot-s01' });

    const fromHttp = (await (await fetch(`${url}/__sim/ledger`)).json()) as ReturnType<
      typeof ledger
    >;
    expect(fromHttp).toEqual(JSON.parse(JSON.stringify(ledger())));
    const { submissions, totals } = fromHttp;
    expect(totals.submissions).toBe(9);
    expect(submissions.map((s) => s.seconds)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(submissions[0]).toMatchObject({
      id: ends[0]?.id,
      body: bodies[0],
      idempotency_key: null,
    });
    expect(submissions[8]?.idempotency_key).toBe('shot-s01');
    expect(Date.parse(submissions[0]?.received_at ?? '')).not.toBeNaN();
    const failed = submissions.filter((s) => s.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(8);
    const billed = submissions
      .filter((s) => s.status === 'completed')
      .reduce((sum, s) => sum + s.seconds, 0);
    expect(totals.billed_seconds).toBe(billed);
    expect(submissions[8]?.status).toMatch(/queued|completed|failed/);
  });

  it('bills the default 5 s when no duration is given', async () => {
    const { url, ledger } = await sim();
    const body: Record<string, unknown> = { ...BODY };
    delete body.duration;
    await render(url, body);
    expect(ledger().totals.billed_seconds).toBe(5);
  });
});
