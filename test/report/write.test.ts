import { readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/media/probe.js';
import type { RunReport } from '../../src/report/types.js';
import { thumbnailName } from '../../src/manifest/identity.js';
import { writeReport } from '../../src/report/write.js';
import { tempDir } from '../media/helpers.js';
import { makeRunFolder } from './folder.js';

let dir = '';
let cleanup: () => Promise<void> = async () => {};
let report: RunReport;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('shotlist-report-'));
  report = await makeRunFolder(dir);
});
afterAll(() => cleanup());

describe('writeReport', () => {
  it('writes thumbnails, the contact sheet, report.json and report.html', async () => {
    const warnings: string[] = [];
    const result = await writeReport(dir, report, { onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);

    const written = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as RunReport;
    expect(written).toEqual(result.report);
    expect(written.contact_sheet).toBe('contact-sheet.jpg');
    const byId = Object.fromEntries(written.shots.map((s) => [s.id, s]));
    expect(byId.s01!.thumbnail).toBe('thumbs/s01.jpg');
    expect(byId.s02!.thumbnail).toMatch(/^thumbs\/s02_take_1-[0-9a-f]{8}\.jpg$/);
    expect(byId.s03!.thumbnail).toBeUndefined();
    for (const s of [byId.s01!, byId.s02!]) {
      expect((await probe(path.join(dir, s.thumbnail!))).video?.width).toBe(320);
    }
    // Two labelled cells side by side.
    expect((await probe(path.join(dir, 'contact-sheet.jpg'))).video).toMatchObject({
      width: 640,
      height: 204,
    });

    const html = await readFile(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('data-shot-key="s02/take:1"');
    expect(html).toContain('src="contact-sheet.jpg"');
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('reuses fresh thumbnails on a second run', async () => {
    const thumb = path.join(dir, 'thumbs', 's01.jpg');
    const before = (await stat(thumb)).mtimeMs;
    await writeReport(dir, report);
    expect((await stat(thumb)).mtimeMs).toBe(before);
  });

  it('keeps an unchanged contact sheet, and draws it again when a label or picture changes', async () => {
    const sheet = path.join(dir, 'contact-sheet.jpg');
    const first = (await stat(sheet)).mtimeMs;
    await writeReport(dir, report);
    expect((await stat(sheet)).mtimeMs).toBe(first);
    // Another label (a shot renamed): drawn again.
    const renamed = {
      ...report,
      shots: report.shots.map((s) => (s.id === 's01' ? { ...s, id: 's01-garden' } : s)),
    };
    await writeReport(dir, renamed);
    const second = (await stat(sheet)).mtimeMs;
    expect(second).toBeGreaterThan(first);
    // A picture taken again (its clip changed): drawn again.
    const thumb = path.join(dir, 'thumbs', 's01.jpg');
    await utimes(thumb, new Date(), new Date(Date.now() + 2000));
    await writeReport(dir, renamed);
    const third = (await stat(sheet)).mtimeMs;
    expect(third).toBeGreaterThan(second);
    // A missing sheet is drawn again even though its record is there.
    await rm(sheet);
    const result = await writeReport(dir, renamed);
    expect(result.report.contact_sheet).toBe('contact-sheet.jpg');
    expect((await probe(sheet)).video).toMatchObject({ width: 640, height: 204 });
  });

  it('turns a clip that cannot be read into a warning, not a failure', async () => {
    const broken = {
      ...report,
      shots: [
        ...report.shots,
        { ...report.shots[0]!, id: 's05', key: 's05', file: 'clips/missing.mp4' },
      ],
    };
    const { dir: other, cleanup: done } = await tempDir('shotlist-report-');
    try {
      const result = await writeReport(other, broken, { media: true });
      expect(result.warnings.join('\n')).toMatch(/no thumbnail for s05/);
      expect(result.report.warnings?.join('\n')).toMatch(/no thumbnail for s05/);
      expect(result.report.shots.find((s) => s.id === 's05')?.thumbnail).toBeNull();
      expect(await readFile(path.join(other, 'report.html'), 'utf8')).toContain(
        'data-shot-id="s05"',
      );
    } finally {
      await done();
    }
  });

  it('names thumbnails safely and uniquely', () => {
    expect(thumbnailName('s01')).toBe('s01.jpg');
    expect(thumbnailName('s01@wide#2')).not.toBe(thumbnailName('s01@wide#3'));
    expect(thumbnailName('../../etc/passwd')).not.toContain('/');
  });
});
