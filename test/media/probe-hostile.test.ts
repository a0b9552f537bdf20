import { chmod, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaError } from '../../src/errors.js';
import { checkMp4Magic, probe, verifyVideo } from '../../src/media/probe.js';
import { runFfmpeg } from '../../src/media/run-ffmpeg.js';
import { locateTool } from '../../src/media/locate.js';
import { makeClip, tempDir } from './helpers.js';

const KEY = 'sk-probe-test-key-0123456789';

function box(type: string, body: Buffer, size?: number): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(size ?? 8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

const FTYP = box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2mp41', 'latin1'));

/** A track whose sample table claims a billion entries that are not there. */
function hugeSampleTable(): Buffer {
  const stszBody = Buffer.alloc(12);
  stszBody.writeUInt32BE(0x3fffffff, 8);
  const hdlr = box('hdlr', Buffer.concat([Buffer.alloc(8), Buffer.from('vide'), Buffer.alloc(13)]));
  const stbl = box('stbl', box('stsz', stszBody));
  const trak = box(
    'trak',
    Buffer.concat([
      box('tkhd', Buffer.alloc(84)),
      box('mdia', Buffer.concat([hdlr, box('minf', stbl)])),
    ]),
  );
  return Buffer.concat([FTYP, box('moov', Buffer.concat([box('mvhd', Buffer.alloc(100)), trak]))]);
}

/** An `ftyp` box, then a `moov` box claiming a terabyte through its 64-bit size. */
function hugeClaimedBox(): Buffer {
  const large = Buffer.alloc(16);
  large.writeUInt32BE(1, 0);
  large.write('moov', 4, 'latin1');
  large.writeBigUInt64BE(1n << 40n, 8);
  return Buffer.concat([FTYP, large, box('mvhd', Buffer.alloc(100))]);
}

async function failure(p: Promise<unknown>): Promise<MediaError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MediaError);
  return err as MediaError;
}

describe('probe refuses what is not an MP4 before a decoder reads it', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let server: Server;
  let hits = 0;
  let base = '';
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('shotlist-probe-hostile-'));
    server = createServer((_req, res) => {
      hits++;
      res.end('#EXTM3U\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await cleanup();
  });

  it('refuses an HLS playlist named .mp4 without fetching what it names', async () => {
    const file = path.join(dir, 's01.mp4');
    const playlist = `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n${base}/seg.ts\n#EXT-X-ENDLIST\n`;
    await writeFile(file, playlist);
    const err = await failure(probe(file));
    expect(err.code).toBe('probe_failed');
    expect(err.message).toContain('s01.mp4 is not an MP4 video (it holds an HLS playlist)');
    expect(err.fix).toMatch(/run again/);
    expect(hits).toBe(0);
  });

  it('never lets ffprobe guess: a playlist behind an ftyp box is read as MP4 only', async () => {
    const file = path.join(dir, 'disguised.mp4');
    const playlist = `#EXTM3U\n#EXTINF:1,\n${base}/seg.ts\n#EXT-X-ENDLIST\n`;
    await writeFile(file, Buffer.concat([FTYP, Buffer.from(playlist)]));
    await checkMp4Magic(file);
    const err = await failure(verifyVideo(file));
    expect(err.code).toBe('probe_failed');
    expect(hits).toBe(0);
  });

  it('verifyVideo holds any name to MP4: a playlist named .m3u8 is refused unread', async () => {
    const file = path.join(dir, 'clip.m3u8');
    await writeFile(file, `#EXTM3U\n#EXTINF:1,\n${base}/seg.ts\n#EXT-X-ENDLIST\n`);
    const err = await failure(verifyVideo(file));
    expect(err.message).toContain('it holds an HLS playlist');
    expect(hits).toBe(0);
  });

  it('names what a text file holds, without its escape sequences', async () => {
    const file = path.join(dir, 'text.mp4');
    await writeFile(file, 'Access denied\x1b]52;c;aGk=\x07 by policy');
    const err = await failure(probe(file));
    expect(err.code).toBe('probe_failed');
    expect(err.message).toContain('text starting "Access denie"');
    expect(err.message).not.toContain('\x1b');
  });

  it('refuses gzip data and an empty file', async () => {
    await writeFile(path.join(dir, 'zip.mp4'), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
    await writeFile(path.join(dir, 'empty.mp4'), '');
    const gz = await failure(probe(path.join(dir, 'zip.mp4')));
    expect(gz.message).toContain('gzip data');
    const empty = await failure(probe(path.join(dir, 'empty.mp4')));
    expect(empty.message).toContain('an empty file');
  });

  it('a truncated mp4 fails with ffprobe’s own last lines in the message', async () => {
    const clip = await makeClip(path.join(dir, 'whole.mp4'), { seconds: 1, audio: false });
    const file = path.join(dir, 'truncated.mp4');
    await writeFile(file, (await readFile(clip)).subarray(0, 600));
    const err = await failure(probe(file));
    expect(err.code).toBe('probe_failed');
    expect(err.message).toMatch(/ffprobe said:\n {2}.*(moov atom not found|error reading header)/);
    expect(err.message).toContain('complete video');
  });

  it('headers claiming huge sizes end in an error, not a hang or a huge allocation', async () => {
    const table = path.join(dir, 'table.mp4');
    await writeFile(table, hugeSampleTable());
    expect((await failure(probe(table))).code).toBe('probe_failed');
    const claimed = path.join(dir, 'claimed.mp4');
    await writeFile(claimed, hugeClaimedBox());
    expect((await failure(verifyVideo(claimed))).code).toBe('video_invalid');
  });
});

describe('probe bounds the time and memory of ffprobe', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let clip = '';
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('shotlist-probe-bounds-'));
    clip = await makeClip(path.join(dir, 'clip.mp4'), { seconds: 1, audio: false });
  });
  afterAll(() => cleanup());

  /** A stand-in ffprobe running `body` as a shell script. */
  async function fakeProbe(name: string, body: string): Promise<NodeJS.ProcessEnv> {
    const file = path.join(dir, name);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
    return { ...process.env, FFPROBE_PATH: file };
  }

  it('kills an ffprobe that does not finish in time', async () => {
    const env = await fakeProbe('slow', 'exec sleep 30');
    const err = await failure(probe(clip, { env, timeoutMs: 300 }));
    expect(err.code).toBe('probe_failed');
    expect(err.message).toContain('it took over 0.3 s');
  });

  it('kills an ffprobe whose memory passes the bound', async () => {
    const grow = `exec "${process.execPath}" -e "globalThis.b = Buffer.alloc(200e6, 1); setTimeout(() => {}, 30000)"`;
    const env = await fakeProbe('greedy', grow);
    const err = await failure(
      probe(clip, { env, maxMemoryBytes: 64 * 1024 ** 2, timeoutMs: 60_000 }),
    );
    expect(err.code).toBe('probe_failed');
    expect(err.message).toContain('it used over 64 MB');
  });

  it('keeps the key and escape sequences out of ffprobe’s lines', async () => {
    const env = await fakeProbe(
      'leaky',
      `printf 'opening https://h/x?key=${KEY}\\n\\033]0;owned\\007bad header\\n' >&2; exit 1`,
    );
    const err = await failure(probe(clip, { env: { ...env, SHOTLIST_API_KEY: KEY } }));
    expect(err.message).toContain('key=***');
    expect(err.message).toContain('bad header');
    expect(`${err.message}${err.stderrTail}`).not.toContain(KEY);
    expect(`${err.message}${err.stderrTail}`).not.toContain('\x1b');
  });
});

describe('runFfmpeg failures carry ffmpeg’s last lines', () => {
  it('names what ffmpeg said, bounded, with the key redacted', async () => {
    const { dir, cleanup } = await tempDir('shotlist-ffmpeg-tail-');
    try {
      const ffmpeg = locateTool('ffmpeg').path;
      const input = path.join(dir, `missing-${KEY}.mp4`);
      const err = await failure(
        runFfmpeg(ffmpeg, ['-hide_banner', '-i', input, path.join(dir, 'out.mp4')], {
          what: 'stitching final.mp4',
          env: { SHOTLIST_API_KEY: KEY },
        }),
      );
      expect(err.code).toBe('ffmpeg_failed');
      expect(err.message).toMatch(/ffmpeg said:\n {2}.*missing-\*\*\*\.mp4: No such file/);
      expect(err.message).not.toContain(KEY);
      expect(err.message.split('\n').length).toBeLessThanOrEqual(7);
      expect(err.fix).not.toMatch(/above/);
    } finally {
      await cleanup();
    }
  });
});
