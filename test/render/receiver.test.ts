import { request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { VideoTask } from '../../src/api/types.js';
import { awaitTask } from '../../src/render/await.js';
import {
  PUSH_BODY_LIMIT,
  PushBoard,
  RECEIVER_MAX_SOCKETS,
  RECEIVER_TIMEOUT_MS,
  startReceiver,
  withWebhook,
  type Receiver,
} from '../../src/render/receiver.js';
import { idleFlood } from '../helpers/flood.js';
import { KEY, fakeClient, fakeContext } from './fakes.js';

const URL_OK = 'https://files.example.test/v.mp4';
/** Any free port on loopback (`--listen 0`). */
const LOOPBACK_ANY = { host: '127.0.0.1', port: 0 };

/** Lets pending promise callbacks and I/O callbacks run; no time passes on any clock. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

/** A sleep that never ends by itself: only an abort (a push, the run's stop) ends it. */
function blockedSleep() {
  const waits: number[] = [];
  const sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((_resolve, reject) => {
      waits.push(ms);
      if (signal?.aborted) return reject(new Error('aborted'));
      signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  return { sleep, waits };
}

/** A getTask whose answers the test hands out one by one. */
function manualApi() {
  const pending: ((task: Partial<VideoTask>) => void)[] = [];
  let gets = 0;
  const getTask = (id: string) => {
    gets++;
    return new Promise<VideoTask>((resolve) =>
      pending.push((t) => resolve({ id, status: 'in_progress', ...t } as VideoTask)),
    );
  };
  return { getTask, gets: () => gets, answer: (t: Partial<VideoTask>) => pending.shift()!(t) };
}

describe('PushBoard and the wait', () => {
  it('a push wakes the shot for one GET; forged, coalesced and replayed pushes add at most one GET each', async () => {
    const board = new PushBoard('http://127.0.0.1:9/hook');
    const token = board.urlFor(KEY).split('/').pop()!;
    const api = manualApi();
    const { sleep, waits } = blockedSleep();
    const f = fakeContext(fakeClient({ getTask: api.getTask }), undefined, {
      pushes: board,
      sleep,
    });
    const done = awaitTask(f.ctx, { taskId: 'task-1', t0: 1000, fresh: true });
    await settle();
    // No push yet: the shot waits on the safety schedule, no look taken.
    expect(waits).toEqual([f.ctx.tuning.safetyMs]);
    expect(api.gets()).toBe(0);

    // A forged push names no token of this run: nothing happens but a count.
    expect(board.push('A'.repeat(32))).toBe(false);
    await settle();
    expect(api.gets()).toBe(0);
    expect(board.counts.unknown).toBe(1);

    // A push for a task still running: one GET, then back to waiting.
    f.clock.t += 30_000;
    board.push(token);
    await settle();
    expect(api.gets()).toBe(1);
    api.answer({ status: 'in_progress', progress: 30 });
    await settle();
    expect(waits).toHaveLength(2);
    expect(api.gets()).toBe(1);

    // Three pushes while a GET is in flight: one more GET, not three.
    board.push(token);
    await settle();
    expect(api.gets()).toBe(2);
    for (let i = 0; i < 3; i++) board.push(token);
    api.answer({ status: 'in_progress', progress: 30 });
    await settle();
    expect(api.gets()).toBe(3);
    api.answer({ status: 'completed', metadata: { url: URL_OK } });
    expect(await done).toEqual({ kind: 'completed', url: URL_OK });
    expect(api.gets()).toBe(3);
    expect(f.ctx.model.count).toBe(1);

    // A replay after the end is counted as late and changes nothing.
    expect(board.push(token)).toBe(true);
    await settle();
    expect(api.gets()).toBe(3);
    expect(board.counts).toEqual({ accepted: 5, late: 1, unknown: 1, refused: 0 });
    expect(f.entries.filter((e) => e.type === 'completed')).toHaveLength(1);
  });

  it('a lost push delays the look to the safety poll but never loses the task', async () => {
    const board = new PushBoard('http://127.0.0.1:9/hook');
    board.urlFor(KEY);
    let gets = 0;
    const getTask = (id: string) => {
      gets++;
      return Promise.resolve({ id, status: 'completed', metadata: { url: URL_OK } } as VideoTask);
    };
    const f = fakeContext(fakeClient({ getTask }), undefined, { pushes: board });
    expect(await awaitTask(f.ctx, { taskId: 'task-1', t0: 1000, fresh: true })).toEqual({
      kind: 'completed',
      url: URL_OK,
    });
    expect(f.sleeps).toEqual([f.ctx.tuning.safetyMs]);
    expect(gets).toBe(1);
    // It ended at some unknown time before that look: the schedule learns nothing from it.
    expect(f.ctx.model.count).toBe(0);
  });

  it('a stopped run ends a wait for a push: the task stays pending', async () => {
    const board = new PushBoard('http://127.0.0.1:9/hook');
    board.urlFor(KEY);
    const { sleep } = blockedSleep();
    const f = fakeContext(fakeClient(), undefined, { pushes: board, sleep });
    const done = awaitTask(f.ctx, { taskId: 'task-1', t0: 1000, fresh: true });
    await settle();
    f.stop.abort();
    const out = await done;
    expect(out.kind === 'ended' && out.result.status).toBe('pending');
  });

  it('injects a per-shot URL, keeps a manifest webhook_url, and leaves the shot body as it was', () => {
    const board = new PushBoard('https://hooks.example.test/shotlist/');
    const body = { model: 'seedance-2-official', prompt: 'p', metadata: { ratio: '16:9' } };
    const sent = withWebhook(body, board, KEY);
    expect(sent.metadata?.webhook_url).toMatch(
      /^https:\/\/hooks\.example\.test\/shotlist\/[\w-]{32}$/,
    );
    expect(sent.metadata?.ratio).toBe('16:9');
    expect(body.metadata).toEqual({ ratio: '16:9' });
    expect(withWebhook(body, board, KEY)).toEqual(sent);
    expect(withWebhook(body, new PushBoard('x'), KEY).metadata?.webhook_url).not.toBe(
      sent.metadata?.webhook_url,
    );
    const own = { ...body, metadata: { webhook_url: 'https://mine.example.test/h' } };
    expect(withWebhook(own, board, 'k2')).toBe(own);
    expect(withWebhook(body, undefined, KEY)).toBe(body);
  });
});

describe('the receiver over HTTP', () => {
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  /** One request; resolves with the status, or the error code when the connection dropped. */
  function send(
    path: string,
    options: { method?: string; body?: Buffer; chunked?: boolean } = {},
  ): Promise<number | string> {
    const [host, port] = receiver!.address.split(':');
    return new Promise((resolve) => {
      const req = request(
        {
          host,
          port: Number(port),
          path,
          method: options.method ?? 'POST',
          headers:
            options.body && !options.chunked ? { 'content-length': options.body.length } : {},
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      if (options.chunked && options.body) {
        // Sent in pieces without a length: only counting the stream can stop it.
        const piece = options.body.subarray(0, 256 * 1024);
        let sent = 0;
        const more = () => {
          while (sent < options.body!.length) {
            sent += piece.length;
            if (!req.write(piece)) return void req.once('drain', more);
          }
          req.end();
        };
        more();
      } else req.end(options.body);
    });
  }

  it('answers 204 for a token of the run, 404 for any other, 405 for a GET; the token is in no count', async () => {
    receiver = await startReceiver(LOOPBACK_ANY, undefined, 'http://127.0.0.1:1');
    const url = receiver.board.urlFor(KEY);
    expect(url.startsWith(`http://${receiver.address}/hook/`)).toBe(true);
    const path = new URL(url).pathname;
    expect(await send(path, { body: Buffer.from('{"id":"task_x","status":"completed"}') })).toBe(
      204,
    );
    expect(await send(`/hook?token=${path.split('/').pop()}`)).toBe(204);
    expect(await send('/hook/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBe(404);
    expect(await send('/')).toBe(404);
    expect(await send(path, { method: 'GET' })).toBe(405);
    expect(receiver.board.counts).toEqual({ accepted: 2, late: 0, unknown: 2, refused: 1 });
  });

  it('refuses a receiver the API cannot reach, unless a public URL is given', async () => {
    await expect(
      startReceiver(LOOPBACK_ANY, undefined, 'https://api.example.test'),
    ).rejects.toThrow(/cannot call a receiver/);
    receiver = await startReceiver(
      LOOPBACK_ANY,
      'https://hooks.example.test/h',
      'https://api.example.test',
    );
    expect(receiver.board.urlFor(KEY)).toMatch(/^https:\/\/hooks\.example\.test\/h\/[\w-]{32}$/);
  });

  it('a 10 MB body and 10,000 garbage requests leave memory bounded and a real push still works', async () => {
    receiver = await startReceiver(LOOPBACK_ANY, undefined, 'http://127.0.0.1:1');
    const path = new URL(receiver.board.urlFor(KEY)).pathname;
    const big = Buffer.alloc(10 * 1024 * 1024, 0x61);
    const heapBefore = process.memoryUsage().heapUsed;
    // Declared too large: refused before a byte is read.
    expect([413, 'ECONNRESET', 'EPIPE']).toContain(await send(path, { body: big }));
    // Streamed without a length: dropped once past the limit.
    expect([413, 'ECONNRESET', 'EPIPE']).toContain(await send(path, { body: big, chunked: true }));
    const garbage = ['/', '/hook/', '/%zz', `/hook/${'x'.repeat(5000)}`, '/hook/../../etc/passwd'];
    for (let batch = 0; batch < 100; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          send(garbage[i % garbage.length]!, {
            method: i % 7 === 0 ? 'PUT' : 'POST',
            body: Buffer.from(`{"junk":${i}}`),
          }),
        ),
      );
    }
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    // Nothing per request is kept: the growth is the garbage of this test itself, far below this.
    expect(heapGrowth).toBeLessThan(64 * 1024 * 1024);
    const { counts } = receiver.board;
    expect(counts.refused).toBeGreaterThanOrEqual(2 + 1400);
    expect(counts.unknown + counts.refused).toBe(10_002);
    expect(PUSH_BODY_LIMIT).toBe(64 * 1024);
    expect(await send(path, { body: Buffer.from('{}') })).toBe(204);
    expect(receiver.board.counts.accepted).toBe(1);
  });

  it('closes 256 idle, half-open and stalled sockets within 5 s, and takes a push while they are open', async () => {
    receiver = await startReceiver(LOOPBACK_ANY, undefined, 'http://127.0.0.1:1');
    const path = new URL(receiver.board.urlFor(KEY)).pathname;
    const [host, port] = receiver.address.split(':');
    // The receiver and the sockets share this process: time it stood still (a loaded machine)
    // is counted apart from the receiver's own timeout.
    const stalls = monitorEventLoopDelay({ resolution: 10 });
    stalls.enable();
    const flood = await idleFlood(host!, Number(port), RECEIVER_MAX_SOCKETS, 32);
    try {
      // 256 sockets hold the server, silent or stalled mid-header: a push still gets in.
      expect(await send(path, { body: Buffer.from('{}') })).toBe(204);
      expect(receiver.board.counts.accepted).toBe(1);
      const { lifetimes, unconnected } = await flood.closed;
      stalls.disable();
      expect(unconnected).toBe(0);
      // The timeout plus a margin and the longest stall; Node's default sweep took 25-30 s.
      const stalled = stalls.max / 1e6;
      expect(Math.max(...lifetimes)).toBeLessThan(RECEIVER_TIMEOUT_MS + 4_000 + stalled);
    } finally {
      stalls.disable();
      flood.destroy();
    }
  });
});
