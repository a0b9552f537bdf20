import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execaSync } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { isLoopbackUrl, loopbackTarget } from '../../src/sim/webhook.js';
import { BODY, get, post, sim } from './helpers.js';
import { until } from '../helpers/wait.js';

const dir = mkdtempSync(path.join(tmpdir(), 'shotlist-sim-hook-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed certificate for 127.0.0.1, or undefined when openssl is absent. */
function selfSigned(): { key: Buffer; cert: Buffer } | undefined {
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    const run = execaSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
      ],
      { reject: false, stdin: 'ignore' },
    );
    if (run.exitCode !== 0) return undefined;
    return { key: readFileSync(keyFile), cert: readFileSync(certFile) };
  } catch {
    return undefined;
  }
}

const tls = selfSigned();

async function receiver(): Promise<{
  server: Server;
  url: string;
  next: () => Promise<unknown>;
}> {
  const waiting: ((value: unknown) => void)[] = [];
  const received: unknown[] = [];
  const server = createServer(tls ?? {}, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      res.end('ok');
      const wake = waiting.shift();
      if (wake) wake(body);
      else received.push(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    server,
    url,
    next: () =>
      received.length > 0 ? Promise.resolve(received.shift()) : new Promise((r) => waiting.push(r)),
  };
}

describe('webhook_url', () => {
  it('knows loopback hosts', () => {
    for (const url of [
      'https://127.0.0.1:1/x',
      'https://localhost/x',
      'https://[::1]:8/x',
      'https://127.9.9.9/',
    ]) {
      expect(isLoopbackUrl(url), url).toBe(true);
    }
    for (const url of [
      'https://example.com/x',
      'https://10.0.0.1/x',
      'https://128.0.0.1/',
      'nope',
      // Names a resolver would have to answer: never looked up, so never called.
      'https://app.localhost/x',
      'https://localhost./x',
      'https://127.0.0.1.nip.io/x',
      'https://[::ffff:127.0.0.1]/x',
    ]) {
      expect(isLoopbackUrl(url), url).toBe(false);
    }
  });

  it('connects to a literal address: localhost becomes 127.0.0.1, no name to resolve', () => {
    expect(loopbackTarget('https://localhost:8443/hook?a=1')?.href).toBe(
      'https://127.0.0.1:8443/hook?a=1',
    );
    expect(loopbackTarget('https://[::1]:9/x')?.hostname).toBe('[::1]');
    expect(loopbackTarget('https://127.0.0.2/x')?.hostname).toBe('127.0.0.2');
  });

  it('does not call a name under .localhost, and says so', async () => {
    const logs: string[] = [];
    const simulator = await sim({ onLog: (e) => logs.push(e.message) });
    await post(simulator.url, { ...BODY, metadata: { webhook_url: 'https://a.localhost/hook' } });
    expect(logs.join('\n')).toMatch(/a\.localhost\/hook is not a loopback address/);
  });

  it('does not keep or call a long webhook URL of a large body, and says so', async () => {
    const logs: string[] = [];
    const simulator = await sim({ onLog: (e) => logs.push(e.message) });
    const long = `https://127.0.0.1:9/${'x'.repeat(3000)}`;
    const note = 'n'.repeat(100_000);
    await post(simulator.url, { ...BODY, metadata: { webhook_url: long, note } });
    expect(logs.join('\n')).toMatch(/is longer than 2048 characters; it will not be called/);
    expect(logs.join('\n').length).toBeLessThan(1000);
    expect(JSON.stringify(simulator.ledger())).not.toContain('x'.repeat(3000));
  });

  it.skipIf(!tls)(
    tls ? 'calls https://localhost on 127.0.0.1 with the Host it was given' : 'skipped: no openssl',
    async () => {
      const hosts: (string | undefined)[] = [];
      const server = createServer(tls ?? {}, (req, res) => {
        hosts.push(req.headers.host);
        req.resume();
        req.on('end', () => res.end('ok'));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const port = (server.address() as AddressInfo).port;
        const simulator = await sim({ latency: { min: 0.1, max: 0.1 } });
        await post(simulator.url, {
          ...BODY,
          metadata: { webhook_url: `https://localhost:${port}/hook` },
        });
        await until(() => simulator.stats().webhooks.delivered > 0, 'the webhook call');
        expect(simulator.stats().webhooks).toEqual({ delivered: 1, failed: 0 });
        expect(hosts).toEqual([`localhost:${port}`]);
      } finally {
        server.close();
      }
    },
  );

  it.skipIf(!tls)(
    tls
      ? 'POSTs the final task object to a loopback https receiver'
      : 'skipped: openssl not found, no certificate for a test receiver',
    async () => {
      const hook = await receiver();
      try {
        const simulator = await sim({ latency: { min: 0.2, max: 0.2 } });
        const ok = (await (
          await post(simulator.url, { ...BODY, metadata: { webhook_url: hook.url } })
        ).json()) as { id: string };
        expect(await hook.next()).toMatchObject({
          id: ok.id,
          object: 'video',
          status: 'completed',
          progress: 100,
          metadata: { url: expect.stringContaining(`/videos/${ok.id}.mp4`) },
        });

        const failing = await sim({ latency: { min: 0.1, max: 0.1 }, failRate: 1 });
        const bad = (await (
          await post(failing.url, { ...BODY, metadata: { webhook_url: hook.url } })
        ).json()) as { id: string };
        expect(await hook.next()).toMatchObject({
          id: bad.id,
          status: 'failed',
          error: { code: 'content_filter' },
        });
        expect(simulator.stats().webhooks).toEqual({ delivered: 1, failed: 0 });
      } finally {
        hook.server.close();
      }
    },
  );

  it.skipIf(!tls)(
    tls
      ? 'calls back for tasks that waited for a max-concurrent slot'
      : 'skipped: openssl not found',
    async () => {
      const hook = await receiver();
      try {
        const simulator = await sim({ latency: { min: 0.15, max: 0.15 }, maxConcurrent: 1 });
        const started = Date.now();
        await post(simulator.url, BODY);
        const queued = (await (
          await post(simulator.url, { ...BODY, metadata: { webhook_url: hook.url } })
        ).json()) as { id: string };
        expect(await hook.next()).toMatchObject({ id: queued.id, status: 'completed' });
        // Its clock started only when the first task's 0.15 s were over.
        expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      } finally {
        hook.server.close();
      }
    },
  );

  it('does not call non-loopback addresses, and says so', async () => {
    const logs: string[] = [];
    const simulator = await sim({ onLog: (e) => logs.push(e.message) });
    await post(simulator.url, { ...BODY, metadata: { webhook_url: 'https://example.com/hook' } });
    expect(logs.join('\n')).toMatch(/not a loopback address/);
  });
});

/** A plain http receiver on loopback that keeps the ids it is called with. */
async function plainReceiver() {
  const ids: string[] = [];
  const waiting: (() => void)[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      ids.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id);
      res.writeHead(204).end();
      for (const wake of waiting.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/t0ken`;
  /** Resolves once `n` calls have come. */
  const calls = async (n: number) => {
    while (ids.length < n) await new Promise<void>((r) => waiting.push(r));
    return ids;
  };
  return { server, url, ids, calls };
}

describe('webhook faults (plain http on loopback)', () => {
  it('calls a plain http receiver on loopback; --webhook-dup calls twice, out of order across tasks', async () => {
    const hook = await plainReceiver();
    try {
      const simulator = await sim({
        latency: { min: 0.1, max: 0.1 },
        seed: 3,
        webhookDup: 1,
        webhookDelayMs: { min: 0, max: 300 },
      });
      const sent: string[] = [];
      for (let i = 0; i < 4; i++) {
        const body = { ...BODY, prompt: `p${i}`, metadata: { webhook_url: hook.url } };
        sent.push(((await (await post(simulator.url, body)).json()) as { id: string }).id);
      }
      const ids = await hook.calls(8);
      for (const id of sent) expect(ids.filter((x) => x === id)).toHaveLength(2);
      // Each call draws its own delay: the order of the calls is not the order of the tasks.
      expect(ids).not.toEqual(sent.flatMap((id) => [id, id]));
      // A call is counted once its answer has been read, just after the receiver saw it.
      await until(() => simulator.stats().webhooks.delivered >= 8, 'eight answered calls');
      expect(simulator.stats().webhooks).toEqual({ delivered: 8, failed: 0 });
    } finally {
      hook.server.close();
    }
  });

  it('--webhook-loss 1 makes no call and counts each as lost', async () => {
    const hook = await plainReceiver();
    try {
      const simulator = await sim({ latency: 0, webhookLoss: 1 });
      const ok = (await (
        await post(simulator.url, { ...BODY, metadata: { webhook_url: hook.url } })
      ).json()) as { id: string };
      // A GET advances the board: the task has ended, its call is due (and dropped).
      await get(simulator.url, ok.id);
      expect(simulator.stats().webhooks).toEqual({ delivered: 0, failed: 0, lost: 1 });
      expect(hook.ids).toEqual([]);
    } finally {
      hook.server.close();
    }
  });

  it('refuses a webhook rate outside 0..1', async () => {
    await expect(sim({ webhookLoss: 1.5 })).rejects.toThrow(/webhook loss rate 1.5/);
  });
});
