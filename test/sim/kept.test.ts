import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEPT_BODY_LIMIT } from '../../src/sim/index.js';
import { TASKS_FILE } from '../../src/sim/state.js';
import { tempDir } from '../helpers/cli.js';
import { BODY, post, sim } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('shotlist-sim-kept-'));
});
afterEach(() => cleanup());

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A valid body of about `bytes` bytes: the extra weight in a metadata field the API ignores. */
function heavy(bytes: number, prompt = BODY.prompt): string {
  return JSON.stringify({
    ...BODY,
    prompt,
    metadata: { ...BODY.metadata, note: 'n'.repeat(bytes) },
  });
}

describe('what the simulator keeps of a request body', () => {
  it('keeps a small body whole, with its digest and size', async () => {
    const simulator = await sim();
    const raw = JSON.stringify(BODY);
    expect((await post(simulator.url, raw)).status).toBe(200);
    const [entry] = simulator.ledger().submissions;
    expect(entry).toMatchObject({ body: BODY, body_sha256: sha256(raw), body_bytes: raw.length });
    expect(entry).not.toHaveProperty('body_trimmed');
  });

  it('keeps a large body as the fields that shape its clip, and the digest of all of it', async () => {
    const simulator = await sim();
    const raw = heavy(900_000);
    expect((await post(simulator.url, raw)).status).toBe(200);
    const [entry] = simulator.ledger().submissions;
    expect(entry).toMatchObject({
      body: BODY,
      body_sha256: sha256(raw),
      body_bytes: Buffer.byteLength(raw),
      body_trimmed: true,
      seconds: 4,
    });
    expect(JSON.stringify(entry).length).toBeLessThan(KEPT_BODY_LIMIT);
  });

  it('stays bounded under a flood of 1 MB bodies, in memory and on disk', async () => {
    const stateDir = path.join(dir, 'state');
    const simulator = await sim({ stateDir });
    let sent = 0;
    for (let i = 0; i < 40; i++) {
      const raw = heavy(1_000_000, `shot ${i}`);
      sent += raw.length;
      expect((await post(simulator.url, raw)).status).toBe(200);
    }
    const ledger = JSON.stringify(simulator.ledger());
    expect(sent).toBeGreaterThan(40_000_000);
    // About 0.5 KB a task instead of 1 MB.
    expect(ledger.length).toBeLessThan(40 * 2048);
    expect(statSync(path.join(stateDir, TASKS_FILE)).size).toBeLessThan(40 * 2048);
  });
});
