import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/api/client.js';
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
