import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveApiKey } from '../../src/api/key.js';
import { redactKnown } from '../../src/api/redact.js';

describe('redactKnown', () => {
  it('removes the keys of the usual variables', () => {
    const env = { SHOTLIST_API_KEY: 'sk-env-key-1234', API_KEY: ' sk-other-5678 ' };
    expect(redactKnown('a sk-env-key-1234 b sk-other-5678', env)).toBe('a *** b ***');
  });

  it('removes a key found in .env once it has been resolved', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shotlist-redact-'));
    try {
      const key = 'sk-dotenv-only-90ab12cd';
      expect(redactKnown(`url?key=${key}`, {})).toContain(key);
      await writeFile(path.join(dir, '.env'), `SHOTLIST_API_KEY=${key}\n`);
      expect((await resolveApiKey({}, dir))?.key).toBe(key);
      expect(redactKnown(`url?key=${key}`, {})).toBe('url?key=***');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
