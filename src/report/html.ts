import { formatMoney } from '../plan/budget.js';
import { describeFrame } from '../manifest/frames.js';
import type {
  CastSheetEntry,
  MoneyTotal,
  OutputReport,
  RunReport,
  ShotReport,
  ShotStatus,
} from './types.js';
import { shotLabel } from '../manifest/identity.js';

export interface RenderHtmlOptions {
  /** The page's title; defaults to the run's name. */
  title?: string;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML content and quoted attribute values alike. */
export function escapeHtml(text: unknown): string {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/**
 * Turns a path relative to the report's folder into a URL the page can load from disk: each
 * segment percent-encoded, so `#`, `?`, spaces or a `javascript:` prefix stay a file name.
 */
export function relativeUrl(file: string): string {
  const segments = file.replace(/\\/g, '/').split('/');
  // The report never links outside its folder: an absolute path or a `..` links nowhere.
  if (/^[A-Za-z]:$/.test(segments[0] ?? '') || segments.some((s) => s === '' || s === '..')) {
    return '#';
  }
  return segments.map((segment) => encodeURIComponent(segment)).join('/');
}

const STATUS_ORDER: Record<ShotStatus, number> = {
  failed: 0,
  unknown: 1,
  pending: 2,
  skipped: 3,
  done: 4,
};

/** Shots to show: failures first, then shots whose fate is unknown, then the rest in order. */
export function orderShots(shots: readonly ShotReport[]): ShotReport[] {
  const hasTrouble = shots.some((s) => s.status !== 'done');
  if (!hasTrouble) return [...shots];
  return shots
    .map((shot, index) => ({ shot, index }))
    .sort((a, b) => STATUS_ORDER[a.shot.status] - STATUS_ORDER[b.shot.status] || a.index - b.index)
    .map((x) => x.shot);
}

function money(value: number | null, currency: string | null): string {
  return value === null ? '—' : formatMoney(value, currency);
}

function seconds(value: number): string {
  return `${Number.isInteger(value) ? value : value.toFixed(2)} s`;
}

function field(name: string, value: string): string {
  return `<dt>${escapeHtml(name)}</dt><dd>${escapeHtml(value)}</dd>`;
}

/**
 * One member of the cast sheet: its words, its images and the shots it appears in. Its lines
 * share one <dd>, so the two-column grid keeps them in the member's row.
 */
function renderCastMember(member: CastSheetEntry): string {
  const words = member.description ? ` (${member.description})` : '';
  const shots = member.shots.length ? member.shots.join(', ') : 'no shot mentions it';
  return `<dt>@${escapeHtml(member.name)}${escapeHtml(words)}</dt><dd><div>images: ${escapeHtml(member.images.join(', '))}</div><div>in: ${escapeHtml(shots)}</div></dd>`;
}

function renderCard(shot: ShotReport): string {
  const media: string[] = [];
  if (shot.file) {
    const poster = shot.thumbnail ? ` poster="${escapeHtml(relativeUrl(shot.thumbnail))}"` : '';
    media.push(
      `<video controls preload="none"${poster} src="${escapeHtml(relativeUrl(shot.file))}"></video>`,
    );
  } else if (shot.thumbnail) {
    media.push(`<img alt="" src="${escapeHtml(relativeUrl(shot.thumbnail))}">`);
  } else {
    media.push(`<div class="nomedia">no clip</div>`);
  }
  if (shot.file && shot.thumbnail) {
    media.push(
      `<img class="thumb" alt="middle frame of ${escapeHtml(shotLabel(shot))}" src="${escapeHtml(relativeUrl(shot.thumbnail))}">`,
    );
  }
  const error = shot.error
    ? `<p class="error"><strong>${escapeHtml(shot.error.code)}</strong>: ${escapeHtml(shot.error.message)}</p>`
    : '';
  const facts = [
    field('mode', shot.mode),
    field('model', shot.model),
    field('size', `${shot.size} · ${shot.ratio}`),
    field('seconds', seconds(shot.seconds)),
    field('cost', money(shot.cost, shot.currency)),
    field('cached', shot.cached ? 'yes' : 'no'),
  ];
  if (shot.depends_on)
    facts.push(field('starts on', shot.depends_on.map(describeFrame).join(', ')));
  if (shot.task_id) facts.push(field('task', shot.task_id));
  if (shot.file) facts.push(field('file', shot.file));
  return `<article class="card status-${escapeHtml(shot.status)}" data-shot-id="${escapeHtml(shot.id)}" data-shot-key="${escapeHtml(shot.key)}" data-status="${escapeHtml(shot.status)}">
<header><h3>${escapeHtml(shotLabel(shot))}</h3><span class="badge">${escapeHtml(shot.status)}</span>${shot.picked ? ' <span class="badge picked">picked</span>' : ''}</header>
<div class="media">${media.join('')}</div>
${error}<p class="prompt">${escapeHtml(shot.prompt)}</p>
<dl>${facts.join('')}</dl>
${renderVersions(shot)}</article>`;
}

/** Earlier clips of a shot, kept in the clip store: each one a link, the current one marked. */
function renderVersions(shot: ShotReport): string {
  const versions = shot.versions ?? [];
  if (versions.length < 2) return '';
  const items = versions.map(
    (v, i) =>
      `<li><a href="${escapeHtml(relativeUrl(v.file))}">version ${i + 1}</a> · ${escapeHtml(v.downloaded_at)}${v.current ? ' · current' : ''}</li>`,
  );
  return `<details class="versions"><summary>${versions.length} versions</summary><ol>${items.join('')}</ol></details>
`;
}

/** ` · -14.0 LUFS, true peak -1.2 dBTP` for an output whose loudness was measured. */
function loudnessText(output: OutputReport): string {
  const l = output.loudness;
  if (!l) return '';
  return ` · ${escapeHtml(`${l.integrated.toFixed(1)} LUFS, true peak ${l.true_peak.toFixed(1)} dBTP`)}`;
}

function renderOutput(output: OutputReport): string {
  const warnings = output.warnings.length
    ? `<ul class="warnings">${output.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`
    : '';
  return `<figure class="output" data-output="${escapeHtml(output.file)}">
<video controls preload="metadata" src="${escapeHtml(relativeUrl(output.file))}"></video>
<figcaption><strong>${escapeHtml(output.variant ?? output.file)}</strong> · ${escapeHtml(seconds(output.duration))} · ${output.path === 'copy' ? 'streams copied' : 're-encoded'}${loudnessText(output)} · <a href="${escapeHtml(relativeUrl(output.file))}">${escapeHtml(output.file)}</a>${(output.captions ?? []).map((f) => ` · <a href="${escapeHtml(relativeUrl(f))}">${escapeHtml(f)}</a>`).join('')}</figcaption>
${warnings}</figure>`;
}

function renderPlanTable(shots: readonly ShotReport[]): string {
  const rows = shots
    .map(
      (s) =>
        `<tr class="status-${escapeHtml(s.status)}"><td>${escapeHtml(shotLabel(s))}</td><td>${escapeHtml(s.mode)}</td><td>${escapeHtml(s.model)}</td><td>${escapeHtml(`${s.size} · ${s.ratio}`)}</td><td class="num">${escapeHtml(seconds(s.seconds))}</td><td class="num">${escapeHtml(money(s.cost, s.currency))}</td><td>${escapeHtml(s.cached ? 'cached' : 'new')}</td><td>${escapeHtml(s.status)}</td></tr>`,
    )
    .join('\n');
  return `<table class="plan"><thead><tr><th>shot</th><th>mode</th><th>model</th><th>size</th><th>seconds</th><th>cost</th><th>source</th><th>status</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}

const CSS = `
:root { color-scheme: light dark; --bg: #f6f6f4; --fg: #1d1d1b; --card: #fff; --muted: #6b6b66; --line: #ddd; --bad: #b3261e; --warn: #a05a00; --ok: #1e7b34; }
@media (prefers-color-scheme: dark) { :root { --bg: #161615; --fg: #eceae4; --card: #222220; --muted: #a3a19a; --line: #3a3a37; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
h1 { margin: 0 0 4px; font-size: 24px; }
h2 { margin: 28px 0 12px; font-size: 18px; }
.meta { color: var(--muted); margin: 0 0 16px; }
.totals { display: flex; flex-wrap: wrap; gap: 12px; margin: 0; padding: 0; list-style: none; }
.totals li { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; }
.totals b { display: block; font-size: 18px; }
.simulated { display: inline-block; background: var(--warn); color: #fff; border-radius: 4px; padding: 0 6px; font-size: 12px; vertical-align: middle; }
table.plan { border-collapse: collapse; width: 100%; background: var(--card); font-size: 13px; }
table.plan th, table.plan td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; }
table.plan td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.status-failed td { color: var(--bad); }
.outputs { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 16px; }
.output { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
.output video, .card video, .card img { width: 100%; max-height: 360px; background: #000; border-radius: 4px; display: block; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; overflow-wrap: anywhere; }
.card header { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; }
.card h3 { margin: 0 0 8px; font-size: 15px; }
.card .thumb { margin-top: 6px; max-height: 80px; width: auto; }
.badge { font-size: 12px; border-radius: 4px; padding: 0 6px; background: var(--line); }
.status-done .badge { background: var(--ok); color: #fff; }
.badge.picked { background: #2563eb; color: #fff; }
.status-failed { border-color: var(--bad); }
.status-failed .badge { background: var(--bad); color: #fff; }
.status-unknown .badge, .status-pending .badge { background: var(--warn); color: #fff; }
.nomedia { height: 120px; display: grid; place-items: center; color: var(--muted); border: 1px dashed var(--line); border-radius: 4px; }
.error { color: var(--bad); }
.prompt { white-space: pre-wrap; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; font-size: 13px; }
dt { color: var(--muted); }
dd { margin: 0; }
#cast dl { grid-template-columns: minmax(0, 1fr) minmax(0, 2fr); row-gap: 8px; }
#cast dt, #cast dd { min-width: 0; overflow-wrap: anywhere; }
.warnings { color: var(--warn); }
.sheet img { max-width: 100%; border-radius: 4px; }
`;

/** Failed tasks (not billed), tasks that may be billed, and the job's bill over every run. */
function spendItems(t: RunReport['totals'], simulated: boolean): [string, string][] {
  const item = (label: string, m: MoneyTotal): [string, string] => [
    label,
    `${seconds(m.seconds)} · ${money(m.cost, t.currency)}`,
  ];
  const items: [string, string][] = [];
  if (t.spend?.failed.seconds) items.push(item('failed, not billed', t.spend.failed));
  if (t.spend?.at_risk.seconds) items.push(item('may have been billed', t.spend.at_risk));
  // Simulated seconds bill nothing: they are what the renders would cost at your prices.
  const [billed, atRisk] = simulated
    ? ['simulated (nothing billed), all runs', 'simulated, outcome unknown, all runs']
    : ['billed, all runs', 'may have been billed, all runs'];
  if (t.job_spend) items.push(item(billed, t.job_spend.billed));
  if (t.job_spend?.at_risk.seconds) items.push(item(atRisk, t.job_spend.at_risk));
  return items;
}

/**
 * Renders the run report as one HTML page. Pure. The page needs no network: its CSS is
 * inline, it has no script, and clips, thumbnails and outputs are referenced by paths
 * relative to the report's folder (videos are too big to inline; the folder is the unit).
 * Shots with a problem come first; every shot has a card with `data-shot-id` and
 * `data-shot-key`.
 */
export function renderReportHtml(report: RunReport, opts: RenderHtmlOptions = {}): string {
  const t = report.totals;
  const title = opts.title ?? `${report.name} · shotlist report`;
  const ordered = orderShots(report.shots);
  const totals = [
    ['shots', String(t.shots)],
    ['done', String(t.done)],
    ['failed', String(t.failed)],
    ['unknown', String(t.unknown)],
    ['pending', String(t.pending)],
    ['planned', `${seconds(t.previewed_seconds)} · ${money(t.previewed_cost, t.currency)}`],
    report.simulated
      ? [
          'simulated: nothing spent',
          `${seconds(t.submitted_seconds)} · ${money(t.spent_cost, t.currency)} at your prices`,
        ]
      : [
          'spent',
          `${seconds(t.spend?.billed.seconds ?? t.submitted_seconds)} · ${money(t.spent_cost, t.currency)}`,
        ],
    ...spendItems(t, report.simulated),
    ...(t.billed_check
      ? [
          [
            'reported by the API',
            `${seconds(t.billed_check.reported_seconds)} for ${t.billed_check.shots} shots (previewed ${seconds(t.billed_check.previewed_seconds)})${t.billed_check.differences.length ? `, ${t.billed_check.differences.length} differ` : ''}`,
          ],
        ]
      : []),
  ]
    .map(
      ([k = '', v]) =>
        `<li class="total-${escapeHtml(k.replace(/[^a-z0-9]+/gi, '-'))}">${escapeHtml(k)}<b>${escapeHtml(v)}</b></li>`,
    )
    .join('');
  const warnings = report.warnings?.length
    ? `<ul class="warnings">${report.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`
    : '';
  const outputs = report.outputs.length
    ? `<section id="outputs"><h2>Stitched</h2><div class="outputs">${report.outputs.map(renderOutput).join('\n')}</div></section>`
    : '';
  const sheet = report.contact_sheet
    ? `<section id="contact-sheet" class="sheet"><h2>Contact sheet</h2><img alt="contact sheet" src="${escapeHtml(relativeUrl(report.contact_sheet))}"></section>`
    : '';
  const cast = report.cast?.length
    ? `<section id="cast"><h2>Cast</h2><dl>${report.cast.map(renderCastMember).join('')}</dl></section>`
    : '';
  const troubled = ordered.filter((s) => s.status !== 'done').length;
  const cardsTitle = troubled
    ? `Shots (${troubled} not done, shown first)`
    : `Shots (${report.shots.length})`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="shotlist">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header id="summary">
<h1>${escapeHtml(report.name)}${report.simulated ? ' <span class="simulated">simulated</span>' : ''}</h1>
<p class="meta">${escapeHtml(report.manifest)} · generated ${escapeHtml(report.generated_at)} · ${escapeHtml(report.base_url)}</p>
<ul class="totals">${totals}</ul>
${warnings}</header>
${outputs}
<section id="plan"><h2>Plan and spend</h2>
${renderPlanTable(ordered)}
</section>
${sheet}
${cast}
<section id="shots"><h2>${escapeHtml(cardsTitle)}</h2>
<div class="cards">
${ordered.map(renderCard).join('\n')}
</div>
</section>
</body>
</html>
`;
}
