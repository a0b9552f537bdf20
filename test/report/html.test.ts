import { describe, expect, it } from 'vitest';
import { escapeHtml, orderShots, relativeUrl, renderReportHtml } from '../../src/report/html.js';
import { sampleReport, shot } from './sample.js';

function cardIds(html: string): string[] {
  return [...html.matchAll(/<article [^>]*data-shot-key="([^"]*)"/g)].map((m) => m[1]!);
}

describe('renderReportHtml', () => {
  it('gives every shot a card, with its facts', () => {
    const shots = [
      shot({ id: 's01', variant: 'wide', key: 's01@wide#1' }),
      shot({ id: 's01', variant: 'vertical', key: 's01@vertical#1', ratio: '9:16' }),
      shot({ id: 's02', take: 2, key: 's02#2', cached: true, mode: 'image_to_video' }),
    ];
    const html = renderReportHtml(sampleReport(shots));
    expect(cardIds(html)).toEqual(['s01@wide#1', 's01@vertical#1', 's02#2']);
    expect(html.match(/data-shot-id="s01"/g)).toHaveLength(2);
    expect(html).toContain('image_to_video');
    expect(html).toContain('seedance-2-official');
    expect(html).toContain('5.00 CNY');
    expect(html).toContain('s02#2');
    expect(html).toContain('<video controls preload="none" src="clips/s01.mp4"></video>');
  });

  it('escapes every piece of user text', () => {
    const evil = `<script>alert("x")</script> & 'quotes'`;
    const shots = [
      shot({
        id: `s"><img src=x onerror=alert(1)>`,
        prompt: evil,
        status: 'failed',
        error: { code: '<b>content_filter</b>', message: evil },
        file: null,
      }),
    ];
    const html = renderReportHtml(
      sampleReport(shots, { name: '<script>n</script>', manifest: evil }),
    );
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>content_filter');
    expect(html).toContain(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;',
    );
    expect(html).toContain('data-shot-id="s&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"');
  });

  it('puts failures first, then unknown, keeping order within each', () => {
    const shots = [
      shot({ id: 'a' }),
      shot({
        id: 'b',
        status: 'failed',
        error: { code: 'content_filter', message: 'blocked' },
        file: null,
      }),
      shot({ id: 'c', status: 'unknown', file: null }),
      shot({ id: 'd' }),
      shot({
        id: 'e',
        status: 'failed',
        error: { code: 'timeout', message: 'no answer' },
        file: null,
      }),
    ];
    const html = renderReportHtml(sampleReport(shots));
    expect(cardIds(html)).toEqual(['b', 'e', 'c', 'a', 'd']);
    expect(html).toContain('<strong>content_filter</strong>: blocked');
    expect(html).toContain('3 not done, shown first');
    expect(orderShots(shots.filter((s) => s.status === 'done')).map((s) => s.id)).toEqual([
      'a',
      'd',
    ]);
  });

  it('shows the stitched outputs first, with players and their warnings', () => {
    const html = renderReportHtml(
      sampleReport([shot({ id: 'a' })], {
        outputs: [
          {
            variant: null,
            file: 'final.mp4',
            duration: 14.5,
            path: 'normalise',
            warnings: ['no xfade <here>'],
          },
          {
            variant: 'vertical',
            file: 'final vertical.mp4',
            duration: 15,
            path: 'copy',
            warnings: [],
          },
        ],
        contact_sheet: 'contact-sheet.jpg',
      }),
    );
    expect(html.indexOf('id="outputs"')).toBeLessThan(html.indexOf('id="shots"'));
    expect(html).toContain('<video controls preload="metadata" src="final.mp4">');
    expect(html).toContain('src="final%20vertical.mp4"');
    expect(html).toContain('no xfade &lt;here&gt;');
    expect(html).toContain('streams copied');
    expect(html).toContain('src="contact-sheet.jpg"');
  });

  it('shows plan and spend with the currency, and a dash where there is no price', () => {
    const html = renderReportHtml(
      sampleReport([shot({ id: 'a', cost: null, unit_price: null })], {
        totals: {
          shots: 1,
          done: 1,
          failed: 0,
          unknown: 0,
          pending: 0,
          previewed_seconds: 5,
          submitted_seconds: 5,
          previewed_cost: null,
          spent_cost: null,
          currency: null,
        },
      }),
    );
    expect(html).toContain('id="plan"');
    expect(html).toContain('5 s · —');
    expect(html).toContain('simulated');
  });

  it('needs no network: inline CSS, no script, no remote URL in src or href', () => {
    const html = renderReportHtml(sampleReport([shot({ id: 'a', thumbnail: 'thumbs/a.jpg' })]));
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link /);
    expect(html).not.toMatch(/(src|href|poster)="(https?:)?\/\//);
    expect(html).toContain('poster="thumbs/a.jpg"');
  });
});

describe('helpers', () => {
  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
  });
  it('encodes relative paths segment by segment', () => {
    expect(relativeUrl('clips/s 01#a?.mp4')).toBe('clips/s%2001%23a%3F.mp4');
    expect(relativeUrl('javascript:alert(1)')).toBe('javascript%3Aalert(1)');
    expect(relativeUrl('clips\\橘猫.mp4')).toBe('clips/%E6%A9%98%E7%8C%AB.mp4');
    // A path out of the report's folder (tampered report.json) links nowhere.
    for (const outside of [
      '../victim.mp4',
      'clips/../../x.mp4',
      '/etc/passwd',
      'C:/x.mp4',
      '//host/x',
    ])
      expect(relativeUrl(outside), outside).toBe('#');
  });
});

describe('a simulated run', () => {
  it('says nothing was spent', () => {
    const shots = [shot({ id: 'a' })];
    expect(renderReportHtml(sampleReport(shots, { simulated: true }))).toContain(
      'simulated: nothing spent',
    );
    expect(renderReportHtml(sampleReport(shots, { simulated: false }))).not.toContain(
      'nothing spent',
    );
  });
});
