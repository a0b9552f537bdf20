import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiClient, RetryableApiError } from '../../src/api/client.js';
import { ApiError } from '../../src/errors.js';

const KEY = 'sk-test-secret-4242';
const body = { model: 'seedance-2-official', prompt: '猫', duration: 4 };
const noSleep = async () => undefined;

type Handler = (req: IncomingMessage, res: ServerResponse, text: string, n: number) => void;

let servers: Server[] = [];
let dir: string;

async function serve(
  handler: Handler,
): Promise<{ url: string; hits: () => number; auths: string[] }> {
  let n = 0;
  const auths: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      auths.push(String(req.headers.authorization ?? ''));
      handler(req, res, Buffer.concat(chunks).toString('utf8'), n++);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits: () => n, auths };
}

const json = (
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
};
const task = (status = 'queued') => ({
  id: 'task_1',
  object: 'video',
  status,
  progress: 0,
  created_at: 1,
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'shotlist-client-'));
});
afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  servers = [];
  await rm(dir, { recursive: true, force: true });
});

describe('submit', () => {
  it('sends the body, the key and an Idempotency-Key', async () => {
    let seen: { body?: unknown; idem?: string; auth?: string } = {};
    const s = await serve((req, res, text) => {
      seen = {
        body: JSON.parse(text),
        idem: String(req.headers['idempotency-key']),
        auth: req.headers.authorization!,
      };
      json(res, 200, task());
    });
    const client = createApiClient({ baseUrl: s.url, apiKey: KEY, sleep: noSleep });
    const r = await client.submit(body, { idempotencyKey: 'shotlist-abc' });
    expect(r.kind).toBe('created');
    expect(seen).toEqual({ body, idem: 'shotlist-abc', auth: `Bearer ${KEY}` });
    await client.close();
  });

  it('retries a 429 honouring Retry-After', async () => {
    const waits: number[] = [];
    const s = await serve((_req, res, _t, n) =>
      n < 2
        ? json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '3' })
        : json(res, 200, task()),
    );
    const client = createApiClient({
      baseUrl: s.url,
      apiKey: KEY,
      sleep: async (ms) => void waits.push(ms),
    });
    const r = await client.submit(body, { idempotencyKey: 'k' });
    expect(r.kind).toBe('created');
    expect(s.hits()).toBe(3);
    expect(waits).toEqual([3000, 3000]);
    await client.close();
  });

  it('with requeue, a 429 comes back at once as limited and holds back no other request', async () => {
    const waits: number[] = [];
    const s = await serve((req, res) =>
      req.method === 'POST'
        ? json(res, 429, { error: { message: 'too many tasks' } }, { 'retry-after': '2' })
        : json(res, 200, task()),
    );
    const paused: number[] = [];
    const client = createApiClient({
      baseUrl: s.url,
      apiKey: KEY,
      sleep: async (ms) => void waits.push(ms),
      gate: { acquire: async () => undefined, pause: (ms) => void paused.push(ms) },
    });
    const r = await client.submit(body, { idempotencyKey: 'k', requeue: true });
    expect(r).toMatchObject({ kind: 'limited', retryAfterMs: 2000 });
    expect(r.kind === 'limited' && r.error.message).toMatch(/429 too many tasks/);
    expect(s.hits()).toBe(1);
    expect(waits).toEqual([]);
    expect(paused).toEqual([]);
    await client.close();
  });

  it('never repeats a POST after a 500: the shot is unknown', async () => {
    const s = await serve((_req, res) => json(res, 500, { error: { message: 'upstream broke' } }));
    const client = createApiClient({ baseUrl: s.url, apiKey: KEY, sleep: noSleep });
    const r = await client.submit(body, { idempotencyKey: 'k' });
    expect(r.kind).toBe('unknown');
    expect(s.hits()).toBe(1);
    await client.close();
  });

  it('never repeats a POST reset after it was sent', async () => {
    const s = await serve((req) => req.socket.destroy());
    const client = createApiClient({ baseUrl: s.url, apiKey: KEY, sleep: noSleep });
    const r = await client.submit(body, { idempotencyKey: 'k' });
    expect(r.kind).toBe('unknown');
    expect(s.hits()).toBe(1);
    await client.close();
  });

  it('repeats a POST whose connection was refused, then gives up without a task', async () => {
    const s = await serve((_req, res) => json(res, 200, task()));
    const url = s.url;
    const server = servers.pop()!;
    await new Promise((r) => server.close(r));
    const client = createApiClient({ baseUrl: url, apiKey: KEY, sleep: noSleep, attempts: 3 });
    const r = await client.submit(body, { idempotencyKey: 'k' });
    expect(r.kind).toBe('rejected');
    if (r.kind === 'rejected') expect(r.error.message).toMatch(/ECONNREFUSED/);
    expect(client.stats().requests.submit).toBe(3);
    await client.close();
  });

  it('fails the shot on 400 with the server message', async () => {
    const s = await serve((_req, res) =>
      json(res, 400, { error: { message: 'prompt is too long', code: 'invalid_request' } }),
    );
    const client = createApiClient({ baseUrl: s.url, apiKey: KEY, sleep: noSleep });
    const r = await client.submit(body, { idempotencyKey: 'k' });
    expect(r.kind).toBe('rejected');
    if (r.kind === 'rejected') {
      expect(r.error.serverMessage).toBe('prompt is too long');
      expect(r.error.serverCode).toBe('invalid_request');
      expect(r.error.status).toBe(400);
    }
    await client.close();
  });

  it('throws on 401 without ever showing the key', async () => {
    const s = await serve((req, res) =>
      json(res, 401, { error: { message: `bad key ${req.headers.authorization}` } }),
    );
    const client = createApiClient({ baseUrl: s.url, apiKey: KEY, sleep: noSleep });
    const err = await client.submit(body, { idempotencyKey: 'k' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('unauthorized');
    expect(
      JSON.stringify({ m: (err as ApiError).message, s: (err as ApiError).serverMessage }),
    ).not.toContain(KEY);
    await client.close();
  });

  it('refuses a plain-http base URL off this machine', () => {
    expect(() => createApiClient({ baseUrl: 'http://example.com', apiKey: KEY })).toThrow(
      /plain http/,
    );
  });
});

describe('getTask', () => {
  it('retries 5xx and resets, then answers', async () => {
    const s = await serve((req, res, _t, n) => {
      if (n === 0) return json(res, 503, {});
      if (n === 1) return req.socket.destroy();
      json(res, 200, task('in_progress'));
    });
    const client = createApiClient({ baseUrl: s.url, apiKey: KEY, sleep: noSleep });
    const t = await client.getTask('task_1');
    expect(t.status).toBe('in_progress');
    expect(s.hits()).toBe(3);
    await client.close();
  });

  it('gives up with a retryable error carrying Retry-After', async () => {
    const s = await serve((_req, res) => json(res, 429, {}, { 'retry-after': '7' }));
    const client = createApiClient({ baseUrl: s.url, apiKey: KEY, sleep: noSleep, attempts: 2 });
    const err = (await client.getTask('task_1').catch((e: unknown) => e)) as {
      retryAfterMs?: number;
      code?: string;
    };
    expect(err.code).toBe('poll_failed');
    expect(err.retryAfterMs).toBe(7000);
    await client.close();
  });

  it('a 404 is final', async () => {
    const s = await serve((_req, res) => json(res, 404, { error: { message: 'no such task' } }));
    const client = createApiClient({ baseUrl: s.url, apiKey: KEY, sleep: noSleep });
    const err = (await client.getTask('task_x').catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('task_not_found');
    expect(s.hits()).toBe(1);
    await client.close();
  });
});

describe('download', () => {
  const payload = Buffer.alloc(200_000, 7).map((_, i) => i % 251);
  const sha = createHash('sha256').update(payload).digest('hex');

  it('resumes a cut transfer with Range and never sends the key', async () => {
    const files = await serve((req, res, _t, n) => {
      const range = /bytes=(\d+)-/.exec(String(req.headers.range ?? ''));
      if (n === 0) {
        res.writeHead(200, { 'content-length': String(payload.length) });
        res.write(payload.subarray(0, 70_000), () => req.socket.destroy());
        return;
      }
      const start = range ? Number(range[1]) : 0;
      res.writeHead(range ? 206 : 200, {
        'content-length': String(payload.length - start),
        ...(range
          ? { 'content-range': `bytes ${start}-${payload.length - 1}/${payload.length}` }
          : {}),
      });
      res.end(payload.subarray(start));
    });
    const client = createApiClient({ baseUrl: 'http://127.0.0.1:1', apiKey: KEY, sleep: noSleep });
    const file = path.join(dir, 'a.mp4');
    const r = await client.download(`${files.url}/videos/a.mp4`, file);
    expect(r.bytes).toBe(payload.length);
    expect(r.sha256).toBe(sha);
    expect(
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex'),
    ).toBe(sha);
    await expect(stat(`${file}.part`)).rejects.toThrow();
    expect(files.auths.every((a) => a === '')).toBe(true);
    expect(files.hits()).toBeGreaterThanOrEqual(2);
    await client.close();
  });

  it('notices a body shorter than its Content-Length and refetches', async () => {
    const files = await serve((req, res, _t, n) => {
      if (n === 0) {
        res.writeHead(200, { 'content-length': String(payload.length) });
        res.write(payload.subarray(0, 1000), () => req.socket.destroy());
        return;
      }
      res.writeHead(200, { 'content-length': String(payload.length) });
      res.end(payload);
    });
    const client = createApiClient({ baseUrl: 'http://127.0.0.1:1', apiKey: KEY, sleep: noSleep });
    const r = await client.download(`${files.url}/b.mp4`, path.join(dir, 'b.mp4'));
    expect(r.sha256).toBe(sha);
    await client.close();
  });

  it('leaves no .part behind when it gives up', async () => {
    const files = await serve((_req, res) => {
      res.writeHead(403);
      res.end();
    });
    const client = createApiClient({ baseUrl: 'http://127.0.0.1:1', apiKey: KEY, sleep: noSleep });
    const file = path.join(dir, 'c.mp4');
    await expect(client.download(`${files.url}/c.mp4`, file)).rejects.toThrow(/403/);
    await expect(stat(`${file}.part`)).rejects.toThrow();
    await client.close();
  });
});

/** Answers with headers, then one byte every 50 ms for as long as the client listens. */
function trickle(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  const timer = setInterval(() => res.write(' '), 50);
  res.on('close', () => clearInterval(timer));
}

describe('every wait is bounded', () => {
  it('a POST whose answer trickles ends at its deadline as unknown, sent once', async () => {
    const s = await serve((_req, res) => trickle(res));
    const client = createApiClient({
      baseUrl: s.url,
      apiKey: KEY,
      sleep: noSleep,
      timeouts: { requestMs: 300 },
    });
    const r = await client.submit(body, { idempotencyKey: 'k' });
    expect(r.kind).toBe('unknown');
    if (r.kind === 'unknown') expect(r.error.message).toMatch(/no complete answer within 0.3 s/);
    expect(s.hits()).toBe(1);
    await client.close();
  });

  it('a poll whose answer trickles gives up with a retryable error', async () => {
    const s = await serve((_req, res) => trickle(res));
    const client = createApiClient({
      baseUrl: s.url,
      apiKey: KEY,
      sleep: noSleep,
      attempts: 2,
      env: { SHOTLIST_HTTP_DEADLINE_MS: '200' },
    });
    const err = await client.getTask('task_1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableApiError);
    expect((err as Error).message).toMatch(/no complete answer within 0.2 s/);
    expect(s.hits()).toBe(2);
    await client.close();
  });

  it('a download below the throughput floor is cut, retried, then refused without a file', async () => {
    const files = await serve((_req, res) => trickle(res, { 'content-length': '1000000' }));
    const client = createApiClient({
      baseUrl: 'http://127.0.0.1:1',
      apiKey: KEY,
      sleep: noSleep,
      attempts: 1,
      minThroughput: { bytesPerSec: 10_000, windowMs: 200 },
    });
    const file = path.join(dir, 'slow.mp4');
    const err = await client.download(`${files.url}/slow.mp4`, file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('download_failed');
    expect((err as Error).message).toMatch(/below the floor of 10000 bytes\/s/);
    expect(files.hits()).toBe(3);
    await expect(stat(`${file}.part`)).rejects.toThrow();
    await client.close();
  });

  it('a download past its overall deadline is refused without retrying', async () => {
    const files = await serve((_req, res) => trickle(res, { 'content-length': '1000000' }));
    const client = createApiClient({
      baseUrl: 'http://127.0.0.1:1',
      apiKey: KEY,
      sleep: noSleep,
      timeouts: { downloadMs: 300 },
    });
    const file = path.join(dir, 'late.mp4');
    const err = await client.download(`${files.url}/late.mp4`, file).catch((e: unknown) => e);
    expect((err as ApiError).code).toBe('download_timeout');
    expect(files.hits()).toBe(1);
    await expect(stat(`${file}.part`)).rejects.toThrow();
    await client.close();
  });

  it('caps Retry-After at a minute, or at the configured ceiling', async () => {
    for (const [cap, expected] of [
      [undefined, 60_000],
      [1500, 1500],
    ] as const) {
      const waits: number[] = [];
      const s = await serve((_req, res, _t, n) =>
        n < 1 ? json(res, 429, {}, { 'retry-after': '3600' }) : json(res, 200, task()),
      );
      const client = createApiClient({
        baseUrl: s.url,
        apiKey: KEY,
        sleep: async (ms) => void waits.push(ms),
        ...(cap !== undefined ? { maxRetryAfterMs: cap } : {}),
      });
      expect((await client.submit(body, { idempotencyKey: 'k' })).kind).toBe('created');
      expect(waits).toEqual([expected]);
      await client.close();
    }
  });

  it('a submission aborted before sending created nothing; after sending, unanswered, it is unknown', async () => {
    const s = await serve(() => undefined);
    const client = createApiClient({
      baseUrl: s.url,
      apiKey: KEY,
      sleep: noSleep,
      submitGraceMs: 50,
    });
    const early = await client.submit(body, { idempotencyKey: 'k', signal: AbortSignal.abort() });
    expect(early.kind).toBe('rejected');
    if (early.kind === 'rejected') expect(early.error.code).toBe('interrupted');
    expect(s.hits()).toBe(0);
    const ctl = new AbortController();
    const pending = client.submit(body, { idempotencyKey: 'k', signal: ctl.signal });
    await expect.poll(() => s.hits()).toBe(1);
    ctl.abort();
    const late = await pending;
    expect(late.kind).toBe('unknown');
    expect(s.hits()).toBe(1);
    await client.close();
  });

  it('a POST already sent when the signal aborts may still bring back its task id', async () => {
    let answer: (() => void) | undefined;
    const s = await serve((_req, res) => {
      answer = () => json(res, 200, task());
    });
    const client = createApiClient({ baseUrl: s.url, apiKey: KEY, sleep: noSleep });
    const ctl = new AbortController();
    const pending = client.submit(body, { idempotencyKey: 'k', signal: ctl.signal });
    await expect.poll(() => s.hits()).toBe(1);
    ctl.abort();
    answer!();
    const result = await pending;
    expect(result.kind).toBe('created');
    // Nothing new goes out once the signal has aborted.
    const after = await client.submit(body, { idempotencyKey: 'k2', signal: ctl.signal });
    expect(after.kind).toBe('rejected');
    expect(s.hits()).toBe(1);
    await client.close();
  });

  it('refuses a limit from the environment that is not a positive number', () => {
    expect(() =>
      createApiClient({
        baseUrl: 'http://127.0.0.1:1',
        apiKey: KEY,
        env: { SHOTLIST_DOWNLOAD_MIN_BPS: 'fast' },
      }),
    ).toThrow(/SHOTLIST_DOWNLOAD_MIN_BPS="fast" is not a positive number/);
  });
});

/** Whether text holds the key or a control character. */
const dirty = (text: string) =>
  text.includes(KEY) || [...text].some((c) => c < ' ' || c === '\x7f');

describe('server strings are cleaned in the client', () => {
  const nasty = `\x1b]52;c;${Buffer.from('rm -rf ~').toString('base64')}\x07\x1b[2K\r✔ done ${KEY}\x1b]0;title\x07`;

  it('strips escapes and the key from a failed task, keeps the gateway quirks', async () => {
    const s = await serve((_req, res) =>
      json(res, 200, {
        task_id: 'cgt-2024:abc_1.x',
        status: 'failed',
        seconds: '5',
        progress: '100',
        error: { code: `${KEY}\x1b[31m`, message: nasty },
        metadata: { url: `https://files.example/v.mp4?k=${KEY}` },
      }),
    );
    const client = createApiClient({ baseUrl: s.url, apiKey: KEY, sleep: noSleep });
    const t = await client.getTask('cgt-2024:abc_1.x');
    expect(t).toMatchObject({
      id: 'cgt-2024:abc_1.x',
      status: 'failed',
      seconds: 5,
      progress: 100,
    });
    expect(t.error).toEqual({ code: '***', message: '✔ done ***' });
    expect(t.metadata).toEqual({});
    expect(JSON.stringify(t)).not.toMatch(/\\u001b|\\u0007|sk-test/);
    await client.close();
  });

  it('an accepted submission with an unusable task id is unknown and keeps nothing of it', async () => {
    const s = await serve((_req, res) =>
      json(res, 200, { id: `../${KEY}\x1b[2J`, status: 'queued' }),
    );
    const client = createApiClient({ baseUrl: s.url, apiKey: KEY, sleep: noSleep });
    const r = await client.submit(body, { idempotencyKey: 'k' });
    expect(r.kind).toBe('unknown');
    if (r.kind === 'unknown') {
      expect(r.error.message).toMatch(/task id .* is not 1-128 characters/);
      expect(dirty(r.error.message)).toBe(false);
    }
    await client.close();
  });

  it('keeps only http(s) result URLs of sane length', async () => {
    const urls = [
      'javascript:alert(1)',
      `https://x.example/${'a'.repeat(5000)}`,
      'file:///etc/passwd',
    ];
    const s = await serve((_req, res, _t, n) =>
      json(res, 200, { id: 't1', status: 'completed', metadata: { url: urls[n] } }),
    );
    const client = createApiClient({ baseUrl: s.url, apiKey: KEY, sleep: noSleep });
    for (let i = 0; i < urls.length; i++) expect((await client.getTask('t1')).metadata).toEqual({});
    await client.close();
  });

  it('cleans an error body in either shape before it reaches an ApiError', async () => {
    const s = await serve((_req, res, _t, n) =>
      n === 0
        ? json(res, 400, { error: { code: `bad\x07${KEY}`, message: nasty } })
        : json(res, 400, { code: `c\x1b[1m`, message: `m ${KEY}`, data: null }),
    );
    const client = createApiClient({ baseUrl: s.url, apiKey: KEY, sleep: noSleep });
    for (const expected of [
      { serverCode: 'bad ***', serverMessage: '✔ done ***' },
      { serverCode: 'c', serverMessage: 'm ***' },
    ]) {
      const r = await client.submit(body, { idempotencyKey: 'k' });
      expect(r.kind).toBe('rejected');
      if (r.kind !== 'rejected') continue;
      expect(r.error).toMatchObject(expected);
      expect(dirty(r.error.message)).toBe(false);
    }
    await client.close();
  });
});

describe('download paths in a hostile folder', () => {
  it('never writes through a symlink at the .part or the final path', async () => {
    const files = await serve((_req, res) => res.end('video'));
    const client = createApiClient({ baseUrl: 'http://127.0.0.1:1', apiKey: KEY, sleep: noSleep });
    const victim = path.join(dir, 'victim.txt');
    await writeFile(victim, 'precious');
    for (const link of ['d.mp4.part', 'e.mp4']) {
      await symlink(victim, path.join(dir, link));
      const file = path.join(dir, link.replace('.part', ''));
      const err = await client.download(`${files.url}/v.mp4`, file).catch((e: unknown) => e);
      expect((err as ApiError).code).toBe('unsafe_path');
      expect((await lstat(path.join(dir, link))).isSymbolicLink()).toBe(true);
    }
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect(files.hits()).toBe(0);
    await client.close();
  });

  it('replaces a leftover .part of a cut run', async () => {
    const files = await serve((_req, res) => res.end('video'));
    const client = createApiClient({ baseUrl: 'http://127.0.0.1:1', apiKey: KEY, sleep: noSleep });
    const file = path.join(dir, 'f.mp4');
    await writeFile(`${file}.part`, 'half a video from before');
    await client.download(`${files.url}/v.mp4`, file);
    expect(await readFile(file, 'utf8')).toBe('video');
    await client.close();
  });
});
