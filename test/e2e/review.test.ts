import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { locateTool } from '../../src/media/locate.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import { renderedTakes } from '../helpers/rendered.js';
import { KEY } from './run-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
/** Where the screenshots go: docs/ when asked (`REVIEW_SCREENSHOTS=docs`), else the temp folder. */
const SHOTS_DIR = process.env.REVIEW_SCREENSHOTS;

/** The little of playwright this test touches; the project compiles without the DOM types. */
interface Locator {
  count(): Promise<number>;
  click(): Promise<void>;
  isVisible(): Promise<boolean>;
  textContent(): Promise<string | null>;
  waitFor(options?: { state?: 'visible' | 'attached' }): Promise<void>;
}
interface Page {
  goto(url: string): Promise<unknown>;
  reload(): Promise<unknown>;
  locator(selector: string): Locator;
  keyboard: { press(key: string): Promise<void> };
  on(event: 'dialog', listener: (d: { accept(text?: string): Promise<void> }) => void): void;
  on(event: 'request', listener: (r: { url(): string }) => void): void;
  setViewportSize(size: { width: number; height: number }): Promise<void>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  waitForFunction(fn: string): Promise<unknown>;
  evaluate(fn: string): Promise<unknown>;
}
interface Browser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
interface Playwright {
  chromium: {
    launchPersistentContext(
      dir: string,
      options: { executablePath: string; headless: boolean; args: string[] },
    ): Promise<Browser>;
  };
}

async function loadPlaywright(): Promise<Playwright | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing: apt-get install chromium`;
  const name = 'playwright-core';
  try {
    return (await import(name)) as Playwright;
  } catch {
    return 'playwright-core is not installed';
  }
}

const tmp = tempDir('shotlist-review-e2e-');
afterAll(() => tmp.cleanup());
const manifest = path.join(tmp.dir, 'film.yaml');
const out = path.join(tmp.dir, 'out');
let playwright: Playwright | string = '';

/**
 * Starts `shotlist review` and resolves once it prints its URL: `url` as printed (with the
 * session token), `base` without it.
 */
async function startReview(...more: string[]) {
  const child = spawnShotlist(['review', manifest, '--out', out, ...more], {
    cwd: tmp.dir,
    env: { SHOTLIST_API_KEY: KEY },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m = /review at (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+) /.exec(text);
      if (m) resolve(m[1]!);
    });
    child.catch(reject);
    void child.then((r) => reject(new Error(`review exited: ${String(r.stderr)}`)));
  });
  const parsed = new URL(url);
  return {
    url,
    base: `${parsed.origin}/`,
    token: parsed.searchParams.get('token')!,
    stop: async () => {
      child.kill('SIGTERM');
      const r = await child;
      return r.exitCode;
    },
  };
}

async function frameHashes(file: string): Promise<string[]> {
  const r = await execa(locateTool('ffmpeg').path, [
    ...['-hide_banner', '-v', 'error', '-i', file, '-map', '0:v', '-f', 'framemd5', '-'],
  ]);
  return String(r.stdout)
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(',').at(-1)!.trim());
}

const picked = (shot: number) => `#shot-${shot} .take.picked button`;

beforeAll(async () => {
  playwright = await loadPlaywright();
  // The takes film, rendered once for the files that start from it, copied here.
  await renderedTakes(tmp.dir);
});

describe('shotlist review in real Chromium (built bin, simulated 3 shots x 3 takes)', () => {
  it('picks by keyboard and mouse survive a reload and a restart; stitch uses them', async (ctx) => {
    if (typeof playwright === 'string') return ctx.skip(playwright);
    let server = await startReview();
    const browser = await playwright.chromium.launchPersistentContext(path.join(tmp.dir, 'p'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('dialog', (d) => void d.accept('太暗了,再来一次'));
      await page.setViewportSize({ width: 1280, height: 900 });
      // Without the printed URL's token: a notice, no prompt, no player.
      await page.goto(server.base);
      expect(await page.locator('body').textContent()).toContain('Open the URL printed by');
      expect(await page.locator('video').count()).toBe(0);
      await page.goto(server.url);
      await page.locator('#shot-2').waitFor();
      expect(await page.locator('.shot').count()).toBe(3);
      expect(await page.locator('#shot-0 video').count()).toBe(3);
      expect(await page.locator('#shot-0 .prompt').textContent()).toContain('橘猫在花园里');

      // A second tab loaded now will write against an old revision.
      const other = await browser.newPage();
      await other.goto(server.url);
      await other.locator('#shot-2').waitFor();

      await page.keyboard.press('2'); // keyboard: s01 take 2
      await page.waitForFunction(
        `document.querySelector('#shot-0 .take.picked button')?.dataset.take === '2'`,
      );
      await page.locator('#shot-1 button[data-take="3"]').click(); // mouse: s02 take 3
      await page.waitForFunction(
        `document.querySelector('#shot-1 .take.picked button')?.dataset.take === '3'`,
      );
      await page.keyboard.press('j'); // the click made s02 current; j moves to s03
      await page.keyboard.press('r');
      await page.locator('#shot-2 .reroll[aria-pressed="true"]').waitFor();
      await page.keyboard.press('n');
      await page.waitForFunction(
        `document.querySelector('#shot-2 .note')?.textContent === '太暗了,再来一次'`,
      );

      // The refusal shows beside the shot being picked, in view, not at the top of the page.
      await other.setViewportSize({ width: 390, height: 600 });
      await other.keyboard.press('j');
      await other.keyboard.press('j');
      await other.keyboard.press('3');
      await other.locator('#shot-2 .alert').waitFor();
      expect(await other.locator('#shot-2 .alert').textContent()).toContain('Not saved');
      const inView = await other.evaluate(`(() => {
        const box = document.querySelector('#shot-2 .alert').getBoundingClientRect();
        return box.top >= 0 && box.bottom <= window.innerHeight;
      })()`);
      expect(inView).toBe(true);

      if (SHOTS_DIR) mkdirSync(SHOTS_DIR, { recursive: true });
      // Screenshots from the top, once every player shows its first frame.
      await page.evaluate('window.scrollTo(0, 0)');
      const framesShown = `[...document.querySelectorAll('video')].every((v) => v.readyState >= 2)`;
      await page.waitForFunction(framesShown);
      await page.screenshot({ path: path.join(SHOTS_DIR ?? tmp.dir, 'review-desktop.png') });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: path.join(SHOTS_DIR ?? tmp.dir, 'review-phone.png') });

      await page.reload();
      await page.locator('#shot-2').waitFor();
      await page.waitForFunction(
        `document.querySelector('#shot-0 .take.picked button')?.dataset.take === '2'`,
      );

      expect(await server.stop()).toBe(0);
      server = await startReview();
      await page.goto(server.url);
      await page.locator('#shot-2').waitFor();
      for (const [shot, take] of [
        [0, '2'],
        [1, '3'],
        [2, '1'],
      ] as const) {
        await page.waitForFunction(
          `document.querySelector('${picked(shot)}')?.dataset.take === '${take}'`,
        );
      }
      expect(await page.locator('#shot-2 .reroll[aria-pressed="true"]').count()).toBe(1);
      // Nothing but our loopback server: no CDN, no fonts, no network.
      expect(requests.filter((u) => new URL(u).hostname !== '127.0.0.1')).toEqual([]);

      // Only the clips the page names: traversal, other files and encoded dots get 404.
      for (const p of [
        'files/%2e%2e/film.yaml',
        'files/..%2Ffilm.yaml',
        'files/journal.ndjson',
        'files/clips%2F..%2Fjournal.ndjson',
        'etc/passwd',
      ]) {
        expect((await fetch(`${server.base}${p}?token=${server.token}`)).status, p).toBe(404);
      }
      const clip = await fetch(`${server.base}files/clips/s01.take2.mp4?token=${server.token}`, {
        headers: { range: 'bytes=0-99' },
      });
      expect(clip.status).toBe(206);
      expect((await clip.arrayBuffer()).byteLength).toBe(100);
      const state = await (await fetch(`${server.base}api/state?token=${server.token}`)).text();
      expect(state.includes(KEY)).toBe(false);
    } finally {
      await browser.close();
      await server.stop();
    }

    const picks = parse(readFileSync(path.join(tmp.dir, 'film.simulated.picks.yaml'), 'utf8')) as {
      picks: { shot: string; take?: number; reroll?: boolean; note?: string }[];
    };
    expect(picks.picks.map((p) => ({ ...p, body: undefined }))).toEqual([
      { shot: 's01', take: 2, body: undefined },
      { shot: 's02', take: 3, body: undefined },
      { shot: 's03', reroll: true, note: '太暗了,再来一次', body: undefined },
    ]);

    const r = await shotlist(['stitch', manifest, '--out', out], {
      cwd: tmp.dir,
    });
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const clip = (id: string, take: number) => path.join(out, 'clips', `${id}.take${take}.mp4`);
    const expected = [
      ...(await frameHashes(clip('s01', 2))),
      ...(await frameHashes(clip('s02', 3))),
      ...(await frameHashes(clip('s03', 1))),
    ];
    expect(await frameHashes(path.join(out, 'final.mp4'))).toEqual(expected);
  });
});

describe('shotlist review session token (built bin, plain HTTP)', () => {
  const picksFile = path.join(tmp.dir, 'film.simulated.picks.yaml');
  const picksNow = () => (existsSync(picksFile) ? readFileSync(picksFile, 'utf8') : undefined);

  it('serves nothing but a notice without the printed token, and takes writes from its own origin only', async () => {
    const server = await startReview();
    try {
      expect(server.token.length).toBeGreaterThanOrEqual(22); // 128 bits and more, base64url
      const origin = server.base.slice(0, -1);
      const clip = 'files/clips/s01.take1.mp4';
      const before = picksNow();
      const write = (query: string, headers: Record<string, string>) =>
        fetch(`${server.base}api/pick${query}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ revision: 0, shot: 's01', take: 3 }),
        });

      // No token, a wrong one, or a wrong cookie: refused, no prompt shown, nothing written.
      const bare = await fetch(server.base);
      expect(bare.status).toBe(401);
      const notice = await bare.text();
      expect(notice).toContain('Open the URL printed by');
      expect(notice).not.toContain('橘猫');
      const wrong = 'A'.repeat(server.token.length);
      for (const p of ['api/state', clip, `api/state?token=${wrong}`, `${clip}?token=`]) {
        expect((await fetch(`${server.base}${p}`)).status, p).toBe(401);
      }
      const badCookie = { cookie: `shotlist-review-${new URL(origin).port}=${wrong}` };
      expect((await fetch(`${server.base}api/state`, { headers: badCookie })).status).toBe(401);
      expect((await write('', { origin })).status).toBe(401);
      expect((await write(`?token=${wrong}`, { origin })).status).toBe(401);
      expect(picksNow()).toBe(before);

      // The token, but a foreign origin or none: a write is refused all the same.
      const token = `?token=${server.token}`;
      expect((await write(token, { origin: 'http://evil.example' })).status).toBe(403);
      expect((await write(token, { origin: 'null' })).status).toBe(403);
      expect((await write(token, {})).status).toBe(403);
      expect(picksNow()).toBe(before);

      // The printed URL: the page, and a cookie its own requests (fetches, players) carry.
      const page = await fetch(server.url);
      expect(page.status).toBe(200);
      const cookie = page.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^shotlist-review-\d+=[\w-]+; HttpOnly; SameSite=Strict; Path=\/$/);
      const jar = { cookie: cookie.split(';')[0]! };
      const state = await fetch(`${server.base}api/state`, { headers: jar });
      expect(state.status).toBe(200);
      expect(await state.text()).toContain('橘猫');
      expect((await fetch(`${server.base}${clip}`, { headers: jar })).status).toBe(200);
      const { revision } = (await (await fetch(`${server.base}api/state${token}`)).json()) as {
        revision: number;
      };
      const saved = await fetch(`${server.base}api/pick`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin, ...jar },
        body: JSON.stringify({ revision, shot: 's01', take: 3 }),
      });
      expect(saved.status, await saved.clone().text()).toBe(200);
      expect(picksNow()).toMatch(/shot: s01\n\s+take: 3/);
    } finally {
      await server.stop();
    }
  });

  it('a --port in use is a usage error naming the fix', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const r = await shotlist(['review', manifest, '--out', out, '--port', String(port)], {
        cwd: tmp.dir,
      });
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use`);
      expect(r.stderr).toContain('choose another --port, or leave it out for a free one');
    } finally {
      holder.close();
    }
  });
});
