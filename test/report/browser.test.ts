import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/write.js';
import { tempDir } from '../media/helpers.js';
import { makeRunFolder } from './folder.js';

const CHROMIUM = '/usr/bin/chromium';

/** The little of the DOM this test touches; the project compiles without the DOM types. */
interface El {
  getAttribute(name: string): string | null;
  naturalWidth?: number;
}
interface Page {
  on(event: 'request', listener: (request: { url(): string }) => void): void;
  goto(url: string): Promise<unknown>;
  locator(selector: string): { isVisible(): Promise<boolean>; count(): Promise<number> };
  $$eval<R>(selector: string, fn: (elements: El[]) => R): Promise<R>;
}
interface Playwright {
  chromium: {
    launchPersistentContext(
      userDataDir: string,
      options: { executablePath: string; headless: boolean; args: string[] },
    ): Promise<{ newPage(): Promise<Page>; close(): Promise<void> }>;
  };
}

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
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
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
});
