import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shotlist, tempDir } from '../helpers/cli.js';
import { makeImage } from '../helpers/tools.js';
import { parseEvents } from './events-schema.js';
import { childEnv, readReport } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('shotlist-wire-');
});
afterEach(() => tmp.cleanup());

/** Two shots: s01 starts from a local image, s02 from words alone. */
function writeFilm(dir: string): string {
  mkdirSync(path.join(dir, 'refs'));
  makeImage(path.join(dir, 'refs', 'a.png'), 'orange');
  const file = path.join(dir, 'film.yaml');
  writeFileSync(
    file,
    `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
shots:
  - id: s01
    prompt: 镜头 1
    assets: { images: ["./refs/a.png"] }
  - id: s02
    prompt: 镜头 2
`,
  );
  return file;
}

const SIMULATOR = '<set at send time: simulator address>';
const RECEIVER = '<set at send time: receiver token>';

describe('the bodies shown are the bodies sent', () => {
  it('run --dry-run and plan --json show what only sending knows as placeholders, and the run then sends it', async () => {
    writeFilm(tmp.dir);
    const opts = { env: childEnv, cwd: tmp.dir };
    const dry = await shotlist(
      ['run', 'film.yaml', '--simulate', '--dry-run', '--json', '--listen', '0'],
      opts,
    );
    const bodies = parseEvents(dry.stdout, dry.exitCode)
      .events.filter((e) => e.event === 'request')
      .map((e) => e.body as { images?: unknown; metadata?: { webhook_url?: string } });
    expect(bodies).toHaveLength(2);
    // No body names the simulator's stand-in origin, which is never what is sent.
    expect(JSON.stringify(bodies)).not.toContain('simulator.invalid');
    expect(JSON.stringify(bodies[0]!.images)).toContain(`${SIMULATOR}/assets/`);
    for (const b of bodies) expect(b.metadata?.webhook_url).toBe(RECEIVER);

    const plan = await shotlist(['plan', 'film.yaml', '--simulate', '--json'], opts);
    expect(plan.exitCode, plan.stderr).toBe(0);
    const shots = (JSON.parse(plan.stdout) as { shots: { id: string; request: unknown }[] }).shots;
    expect(JSON.stringify(shots[0]!.request)).toContain(`${SIMULATOR}/assets/`);
    expect(JSON.stringify(shots)).not.toContain('simulator.invalid');

    // The real run fills the simulator's address in: the image reaches it and the shots render.
    const run = await shotlist(['run', 'film.yaml', '--simulate', '--yes'], opts);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(readReport(path.join(tmp.dir, 'renders', 'film.simulated')).totals.done).toBe(2);
  }, 90_000);
});
