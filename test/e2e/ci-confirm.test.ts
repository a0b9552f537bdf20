import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { BIN, CHILD_DEADLINE_MS, tempDir } from '../helpers/cli.js';
import { KEY, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator;

beforeEach(async () => {
  tmp = tempDir('shotlist-ci-e2e-');
  sim = await startSimulator({ apiKey: KEY, latency: 0 });
});
afterEach(async () => {
  await sim.close();
  tmp.cleanup();
});

/** Runs a shell command under a pseudo-terminal (util-linux `script`), stdin left open. */
function underPty(command: string) {
  return execa('script', ['-qec', command, '/dev/null'], {
    reject: false,
    cwd: tmp.dir,
    env: { SHOTLIST_API_KEY: KEY, NO_COLOR: '1' },
    extendEnv: true,
    timeout: CHILD_DEADLINE_MS,
  });
}

describe('CI never asks (built bin under a pseudo-terminal)', () => {
  it('with CI=true refuses without --yes, at once, and sends nothing', async () => {
    const manifest = writeManifest(tmp.dir, 1);
    const out = path.join(tmp.dir, 'out');
    const r = await underPty(
      `CI=true ${process.execPath} ${BIN} run ${manifest} --base-url ${sim.url} --out ${out}`,
    );
    const text = String(r.stdout);
    expect(r.timedOut).toBe(false);
    expect(text).not.toContain('[y/N]');
    expect(text).toContain('CI is set');
    expect(r.exitCode).toBe(2);
    expect(sim.ledger().totals.submissions).toBe(0);
  });

  it('without CI, the same terminal is asked (the pseudo-terminal is seen as one)', async () => {
    const manifest = writeManifest(tmp.dir, 1);
    const out = path.join(tmp.dir, 'out');
    const child = underPty(
      `CI= ${process.execPath} ${BIN} run ${manifest} --base-url ${sim.url} --out ${out}`,
    );
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += String(chunk);
      if (seen.includes('[y/N]')) child.stdin?.write('n\r');
    });
    const r = await child;
    expect(seen).toContain('[y/N]');
    expect(r.exitCode).toBe(0);
    expect(sim.ledger().totals.submissions).toBe(0);
  });
});
