import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { baseOf } from '../../src/cli/common.js';
import { sameBase } from '../../src/pipeline/base.js';
import { journalKey } from '../../src/manifest/identity.js';
import { startSimulator } from '../../src/sim/index.js';
import { cli, tempDir } from '../helpers/cli.js';
import { KEY, writeManifest } from '../e2e/run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('shotlist-state-');
});
afterEach(() => tmp.cleanup());

describe('the base URL in the journal key', () => {
  it('ignores scheme and host case, the default port and a trailing slash', () => {
    const typed = baseOf({ env: {} }, { 'base-url': 'HTTP://127.0.0.1:80/' }).journalBase;
    const plain = baseOf({ env: {} }, { 'base-url': 'http://127.0.0.1' }).journalBase;
    expect(typed).toBe(plain);
    const body = { model: 'seedance-2-official', prompt: 'a cat' };
    expect(journalKey(body, 1, typed)).toBe(journalKey(body, 1, plain));
    expect(
      baseOf({ env: { SHOTLIST_BASE_URL: 'HTTPS://CDN.12ai.org:443/' } }, {}).journalBase,
    ).toBe('https://cdn.12ai.org');
  });

  it('compares a base journaled as typed with the normalised one', () => {
    expect(sameBase('HTTP://127.0.0.1:80/', 'http://127.0.0.1')).toBe(true);
    expect(sameBase('https://Example.com:443/v1/', 'https://example.com/v1')).toBe(true);
    expect(sameBase('http://127.0.0.1:8080', 'http://127.0.0.1')).toBe(false);
  });
});

describe('where the state lives (in process, through main, cwd from the context)', () => {
  it('renders next to the manifest, found from any working directory', async () => {
    const proj = path.join(tmp.dir, 'proj');
    const elsewhere = path.join(tmp.dir, 'elsewhere');
    mkdirSync(proj);
    mkdirSync(elsewhere);
    const manifest = writeManifest(proj, 2);
    const journal = path.join(proj, 'renders', 'film.simulated', 'journal.ndjson');

    const before = await cli(['status', manifest, '--simulate'], { cwd: elsewhere });
    expect(before.exitCode).toBe(1);
    expect(before.stdout).toContain(`no journal at ${journal}: every shot is new`);

    const run = await cli(
      ['run', path.join('..', 'proj', 'film.yaml'), '--simulate', '--sim-latency', '0', '--yes'],
      { cwd: elsewhere },
    );
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`no journal at ${journal}: every shot is new`);
    expect(existsSync(journal)).toBe(true);
    expect(existsSync(path.join(elsewhere, 'renders'))).toBe(false);

    const after = await cli(['status', manifest, '--simulate', '--json'], { cwd: '/' });
    expect(after.exitCode).toBe(0);
    const doc = JSON.parse(after.stdout) as { out: string; counts: { cached: number } };
    expect(doc.out).toBe(path.join(proj, 'renders', 'film.simulated'));
    expect(doc.counts.cached).toBe(2);

    const again = await cli(['run', 'film.yaml', '--simulate', '--yes'], { cwd: proj });
    expect(again.exitCode).toBe(0);
    expect(again.stdout).not.toContain('no journal');
  });

  it('finds the journal whatever case and trailing slash --base-url is typed with', async () => {
    const sim = await startSimulator({ apiKey: KEY, latency: 0 });
    try {
      const manifest = writeManifest(tmp.dir, 1);
      const env = { SHOTLIST_API_KEY: KEY };
      const run = await cli(['run', manifest, '--base-url', sim.url, '--yes'], { env });
      expect(run.exitCode).toBe(0);
      const shouted = sim.url.replace('http://', 'HTTP://') + '/';
      const status = await cli(['status', manifest, '--base-url', shouted], { env });
      expect(status.stdout).toContain('1 done');
      expect(status.exitCode).toBe(0);
    } finally {
      await sim.close();
    }
  });
});
