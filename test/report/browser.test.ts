import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/write.js';
import { tempDir } from '../media/helpers.js';
import { makeRunFolder } from './folder.js';

const CHROMIUM = '/usr/bin/chromium';

/** The little of the DOM this test touches; the project compiles without the DOM types. */
interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}
interface El {
  getAttribute(name: string): string | null;
  naturalWidth?: number;
  tagName: string;
  textContent: string | null;
  nextElementSibling: El | null;
  getBoundingClientRect(): Box;
}
interface Page {
  on(event: 'request', listener: (request: { url(): string }) => void): void;
  goto(url: string): Promise<unknown>;
  locator(selector: string): { isVisible(): Promise<boolean>; count(): Promise<number> };
  $$eval<R>(selector: string, fn: (elements: El[]) => R): Promise<R>;
  $eval<R>(selector: string, fn: (element: { scrollWidth: number }) => R): Promise<R>;
}
interface Playwright {
  chromium: {
    launchPersistentContext(
      userDataDir: string,
      options: {
        executablePath: string;
        headless: boolean;
        args: string[];
        viewport?: { width: number; height: number };
      },
    ): Promise<{ newPage(): Promise<Page>; close(): Promise<void> }>;
  };
}

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** playwright-core, or why this test cannot run here. */
async function loadPlaywright(): Promise<Playwright | string> {
  if (!existsSync(CHROMIUM)) {
    return `${CHROMIUM} is missing: install it (Debian: apt-get install chromium) to run the browser test`;
  }
  // A variable name keeps the compiler and the bundler from requiring the optional package.
  const name = 'playwright-core';
  try {
    return (await import(name)) as Playwright;
  } catch {
    return 'playwright-core is not installed: add it as a devDependency to run the browser test';
  }
}

let dir = '';
let cleanup: () => Promise<void> = async () => {};
let playwright: Playwright | string = '';

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('shotlist-browser-'));
  playwright = await loadPlaywright();
});
afterAll(() => cleanup());

describe('report.html in a real browser', () => {
  it('shows a card for every shot, its pictures, and asks nothing of the network', async (ctx) => {
    if (typeof playwright === 'string') return ctx.skip(playwright);
    const report = await makeRunFolder(path.join(dir, 'run'));
    const { files, report: written } = await writeReport(path.join(dir, 'run'), report);
    const profile = path.join(dir, 'profile');
    const browser = await playwright.chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(files.html).href);

      expect(await page.locator('article[data-shot-id]').count()).toBe(written.shots.length);
      for (const shot of written.shots) {
        const card = page.locator(`article[data-shot-key="${shot.key.replace(/["\\]/g, '\\$&')}"]`);
        expect(await card.isVisible(), shot.key).toBe(true);
      }
      const order = await page.$$eval('article[data-shot-id]', (els) =>
        els.map((e) => e.getAttribute('data-status')),
      );
      expect(order[0]).toBe('failed');
      // The prompt's <script> is text on the page, not a script.
      expect(await page.$$eval('script', (els) => els.length)).toBe(0);
      const images = await page.$$eval('img', (els) =>
        els.map((e) => ({
          src: e.getAttribute('src'),
          ok: (e.naturalWidth ?? 0) > 0,
        })),
      );
      expect(images.length).toBeGreaterThanOrEqual(3);
      expect(images.filter((i) => !i.ok)).toEqual([]);
      expect(await page.locator('#outputs video').count()).toBe(1);
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('keeps each cast member in its own row at 1280 px: its lines beside its name, the page no wider', async (ctx) => {
    if (typeof playwright === 'string') return ctx.skip(playwright);
    const report = await makeRunFolder(path.join(dir, 'cast'));
    const long = (n: number) =>
      Array.from({ length: n }, (_, i) => `https://assets.example.com/cast/reference-${i}.png`);
    report.cast = [
      {
        name: 'mimi_the_orange_shorthair_who_sleeps_on_the_windowsill',
        description: '橘色短毛猫,绿眼睛,尾巴尖上有一撮白毛,总是趴在窗台上看雨,偶尔伸懒腰',
        images: long(6),
        shots: ['s01-window', 's02-jump', 's03-nap'],
      },
      {
        name: 'bobo',
        description: 'a very large, very patient golden retriever with a red collar and a bell',
        images: long(3),
        shots: ['s04-garden'],
      },
      { name: 'lamp', images: ['./refs/lamp.png'], shots: [] },
    ];
    const { files } = await writeReport(path.join(dir, 'cast'), report);
    const browser = await playwright.chromium.launchPersistentContext(path.join(dir, 'profile2'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
    });
    try {
      const page = await browser.newPage();
      await page.goto(pathToFileURL(files.html).href);
      expect(await page.$eval('html', (e) => e.scrollWidth)).toBeLessThanOrEqual(1280);
      // Each <dt> and what follows it up to the next <dt>: the member's name, then its lines.
      const members = await page.$$eval('#cast dt', (dts) =>
        dts.map((dt) => {
          const lines: { text: string; box: Box }[] = [];
          for (let e = dt.nextElementSibling; e && e.tagName !== 'DT'; e = e.nextElementSibling) {
            lines.push({ text: e.textContent ?? '', box: e.getBoundingClientRect() });
          }
          return { name: dt.textContent ?? '', box: dt.getBoundingClientRect(), lines };
        }),
      );
      expect(members.map((m) => m.name.split(' ')[0])).toEqual([
        '@mimi_the_orange_shorthair_who_sleeps_on_the_windowsill',
        '@bobo',
        '@lamp',
      ]);
      const misplaced: string[] = [];
      members.forEach((member, i) => {
        const next = members[i + 1]?.box.top ?? Infinity;
        const at = (line: { text: string }) =>
          `${member.name.slice(0, 12)}: ${line.text.slice(0, 12)}`;
        expect(member.lines.map((l) => l.text.slice(0, 7))).toContain('images:');
        expect(member.lines.map((l) => l.text).join(' ')).toContain('in: ');
        for (const line of member.lines) {
          // Its cell is beside the name (the second column), above the next member's row.
          if (line.box.left < member.box.right) misplaced.push(`${at(line)} left of the name`);
          if (line.box.top < member.box.top - 1) misplaced.push(`${at(line)} above the name`);
          if (line.box.bottom > next + 1) misplaced.push(`${at(line)} in the next member's row`);
          if (line.box.right > 1280) misplaced.push(`${at(line)} past the viewport`);
        }
        if (member.box.right > 1280)
          misplaced.push(`${member.name.slice(0, 12)} past the viewport`);
      });
      expect(misplaced).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
