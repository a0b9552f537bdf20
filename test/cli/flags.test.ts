import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { writeManifest } from '../e2e/run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('shotlist-flags-');
});
afterEach(() => tmp.cleanup());

describe('number flags (in process, through main)', () => {
  it('--max-cost -1 says what is allowed, not "ambiguous"', async () => {
    const manifest = writeManifest(tmp.dir, 1);
    for (const command of ['run', 'plan', 'status']) {
      const r = await cli([command, manifest, '--max-cost', '-1']);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain('--max-cost must be 0 or more, not -1');
      expect(r.stderr).not.toContain('ambiguous');
    }
  });

  it('--duration -4 on run names the flag and the fix', async () => {
    const manifest = writeManifest(tmp.dir, 1);
    const r = await cli(['run', manifest, '--simulate', '--duration', '-4']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--duration must be a whole number, 0 or more, not -4');
  });
});

describe('status takes the plan-changing flags of run (in process, through main)', () => {
  it('--duration, --size and --max-cost change what status assesses', async () => {
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    const run = await cli([
      'run',
      manifest,
      '--simulate',
      '--sim-latency',
      '0',
      '--yes',
      '--out',
      out,
    ]);
    expect(run.exitCode).toBe(0);

    const same = await cli(['status', manifest, '--simulate', '--out', out, '--json']);
    expect(same.exitCode).toBe(0);
    expect((JSON.parse(same.stdout) as { counts: { cached: number } }).counts.cached).toBe(2);

    const longer = await cli([
      'status',
      manifest,
      '--simulate',
      '--out',
      out,
      '--duration',
      '6',
      '--json',
    ]);
    expect(longer.exitCode).toBe(1);
    const doc = JSON.parse(longer.stdout) as {
      counts: { new: number };
      new_seconds: number;
      budget: { ok: boolean };
    };
    expect(doc.counts.new).toBe(2);
    expect(doc.new_seconds).toBe(12);
    expect(doc.budget.ok).toBe(true);

    const capped = await cli([
      'status',
      manifest,
      '--simulate',
      '--out',
      out,
      '--duration',
      '6',
      '--max-cost',
      '5',
    ]);
    expect(capped.exitCode).toBe(3);
    expect(capped.stdout).toContain('over budget');

    const size = await cli(['status', manifest, '--simulate', '--out', out, '--size', '720p']);
    expect(size.exitCode).toBe(1);
    expect(size.stdout).toContain('2 to submit');
  });
});

describe('a flag given without its value (in process, through main)', () => {
  it("the fix is the flag's own help, continuation lines included, not the usage line", async () => {
    const manifest = writeManifest(tmp.dir, 1);
    const listen = await cli(['run', manifest, '--yes', '--listen']);
    expect(listen.exitCode).toBe(2);
    expect(listen.stderr).toContain("Option '--listen <value>' argument missing");
    expect(listen.stderr).toMatch(
      /fix: --listen HOST:PORT: serve a push receiver .* polling slows/,
    );
    const shard = await cli(['plan', manifest, '--shard']);
    expect(shard.exitCode).toBe(2);
    expect(shard.stderr).toMatch(/fix: --shard I\/N: .* --save: a plan for `run --shard I\/N/);
    const port = await cli(['run', manifest, '--listen', '127.0.0.1:99999', '--dry-run']);
    expect(port.exitCode).toBe(2);
    expect(port.stderr).toContain('not 127.0.0.1:99999 (a port is 0 to 65535)');
  });
});
