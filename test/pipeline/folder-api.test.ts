import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIMULATOR_BASE } from '../../src/pipeline/base.js';
import {
  FOLDER_FILE,
  apiName,
  folderApi,
  recordFolderApi,
  refuseOtherApi,
} from '../../src/pipeline/folder-api.js';
import { tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('shotlist-folder-api-unit-');
});
afterEach(() => tmp.cleanup());

describe('the API of an output folder', () => {
  it('names an API by its host only, never its credentials or whole URL', () => {
    expect(apiName('https://user:s3cret-pass@api.example.com/v1')).toBe('api.example.com');
    expect(apiName(SIMULATOR_BASE)).toBe('the simulator');
    expect(apiName('http://127.0.0.1:8080/v2', 'http://127.0.0.1:8080')).toBe(
      '127.0.0.1:8080 (path /v2)',
    );
    let message = '';
    try {
      refuseOtherApi(
        '/x',
        { base: 'https://api.example.com', from: 'record', tied: true },
        'https://user:s3cret-pass@gw.example.net/v1',
      );
    } catch (err) {
      message = `${(err as Error).message} ${(err as { fix?: string }).fix ?? ''}`;
    }
    expect(message).toContain('api.example.com');
    expect(message).toContain('gw.example.net');
    expect(message).not.toContain('s3cret-pass');
    expect(message).not.toContain('https://');
  });

  it('records the base atomically, reads it back cleaned, and never follows a link planted as the record', async () => {
    const dir = path.join(tmp.dir, 'out');
    await recordFolderApi(dir, 'https://api.example.com');
    // Recorded, but no task of the folder there yet: not tied to it.
    expect(await folderApi(dir)).toEqual({
      base: 'https://api.example.com',
      from: 'record',
      tied: false,
    });
    writeFileSync(
      path.join(dir, FOLDER_FILE),
      JSON.stringify({ base: 'https://u:p@api.example.com/\u001b[31mx' }),
    );
    const read = await folderApi(dir);
    expect(read?.base).not.toContain('\u001b');
    expect(read?.base).not.toContain('u:p');
    const other = path.join(tmp.dir, 'other');
    mkdirSync(other);
    const elsewhere = path.join(tmp.dir, 'elsewhere.json');
    writeFileSync(elsewhere, JSON.stringify({ base: 'https://evil.example.org' }));
    symlinkSync(elsewhere, path.join(other, FOLDER_FILE));
    expect(await folderApi(other)).toBeUndefined();
  });
});
