/**
 * The review page: one self-contained HTML document (no CDN, no fonts of its own: Chinese
 * prompts render with the browser's fonts). It reads `/api/state`, plays clips from `/files/`
 * and saves every pick, re-roll mark and note at once through `/api/pick`.
 */
import { optionText } from '../errors.js';
import { escapeHtml } from '../report/html.js';

const STYLE = `
:root { color-scheme: light dark; --accent: #2563eb; --line: #8884; --muted: #6b7280; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; }
header { position: sticky; top: 0; z-index: 2; padding: 10px 16px; background: Canvas;
  border-bottom: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: 4px 16px;
  align-items: baseline; }
header h1 { font-size: 17px; margin: 0; }
header .keys { color: var(--muted); font-size: 13px; }
kbd { border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; font-size: 12px; }
#banner { display: none; margin: 10px 16px 0; padding: 10px 12px; border-radius: 6px;
  background: #fee2e2; color: #7f1d1d; border: 1px solid #fca5a5; }
#banner.show { display: block; }
.shot .alert { margin: 8px 0 0; padding: 8px 10px; border-radius: 6px; background: #fee2e2;
  color: #7f1d1d; border: 1px solid #fca5a5; }
#saved { color: var(--muted); font-size: 13px; }
main { padding: 8px 16px 40px; max-width: 1400px; }
.shot { border: 1px solid var(--line); border-radius: 10px; padding: 12px; margin: 12px 0;
  scroll-margin-top: 70px; }
.shot.current { border-color: var(--accent); box-shadow: 0 0 0 2px var(--accent); }
.shot h2 { font-size: 16px; margin: 0 8px 0 0; display: inline; }
.meta { color: var(--muted); font-size: 13px; }
.prompt { margin: 6px 0 10px; overflow-wrap: anywhere; }
.stale { color: #b45309; font-size: 13px; margin: 4px 0; }
.takes { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 400px)); gap: 10px; }
.take { margin: 0; border: 2px solid transparent; border-radius: 8px; padding: 6px;
  background: #8881; }
.take.picked { border-color: #16a34a; background: #16a34a1a; }
.take video, .take .empty { width: 100%; aspect-ratio: 16 / 9; background: #000; border-radius: 4px;
  display: block; }
.take .empty { display: grid; place-items: center; color: #ccc; font-size: 13px; }
.take figcaption { display: flex; justify-content: space-between; align-items: center;
  gap: 6px; margin-top: 6px; font-size: 13px; }
button { font: inherit; font-size: 13px; padding: 4px 10px; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--line); background: ButtonFace; color: ButtonText; }
button[aria-pressed="true"] { background: #16a34a; color: #fff; border-color: #16a34a; }
.tools { margin-top: 8px; display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.note { font-style: italic; overflow-wrap: anywhere; }
@media (max-width: 600px) {
  body { font-size: 14px; }
  header .keys { display: none; }
  main { padding: 4px 8px 32px; }
  .takes { grid-template-columns: 1fr; }
}
`;

const SCRIPT = `
'use strict';
let state = null;
let current = 0;
const $ = (sel, el = document) => el.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  for (const c of children) node.append(c);
  return node;
};
function banner(text) {
  const b = $('#banner');
  b.textContent = text;
  b.classList.toggle('show', !!text);
}
function shotAlert(shot, text) {
  const section = [...document.querySelectorAll('.shot')].find((s) => s.dataset.label === shot.label);
  if (!section) { banner(text); return; }
  let alert = section.querySelector('.alert');
  if (!text) { if (alert) alert.remove(); return; }
  if (!alert) {
    alert = el('p', { className: 'alert' });
    alert.setAttribute('role', 'alert');
    section.append(alert);
  }
  alert.textContent = text;
  alert.scrollIntoView({ block: 'nearest' });
}
function money(v, currency) {
  return v === null ? 'unpriced' : v.toFixed(2) + (currency ? ' ' + currency : '');
}
function takeCard(shot, t) {
  const picked = t.take === shot.picked;
  const media = t.clip
    ? el('video', { src: '/files/' + t.clip.split('/').map(encodeURIComponent).join('/') + '#t=0.1',
        controls: true, preload: 'metadata', playsInline: true, muted: false })
    : el('div', { className: 'empty', textContent: t.status });
  const button = el('button', { type: 'button', textContent: picked ? 'Picked' : 'Pick ' + t.take });
  button.setAttribute('aria-pressed', String(picked));
  button.dataset.take = String(t.take);
  button.addEventListener('click', () => pick(shot, t.take));
  return el('figure', { className: 'take' + (picked ? ' picked' : '') }, media,
    el('figcaption', {}, el('span', { textContent: 'Take ' + t.take + ' \\u00b7 ' + t.status +
      ' \\u00b7 ' + money(t.cost, shot.currency) }), button));
}
function shotCard(shot, i) {
  const section = el('section', { className: 'shot' + (i === current ? ' current' : ''), id: 'shot-' + i });
  section.dataset.label = shot.label;
  section.addEventListener('click', () => { if (current !== i) select(i, false); });
  section.append(
    el('div', {}, el('h2', { textContent: shot.label }),
      el('span', { className: 'meta', textContent: shot.mode + ' \\u00b7 ' + shot.seconds + ' s \\u00b7 ' +
        shot.takes.length + ' take' + (shot.takes.length === 1 ? '' : 's') })),
    el('p', { className: 'prompt', textContent: shot.prompt }),
  );
  if (shot.stale) section.append(el('p', { className: 'stale', textContent: 'Earlier pick not applied: ' + shot.stale }));
  section.append(el('div', { className: 'takes' }, ...shot.takes.map((t) => takeCard(shot, t))));
  const reroll = el('button', { type: 'button', textContent: shot.reroll ? 'Re-roll marked' : 'Mark re-roll' });
  reroll.setAttribute('aria-pressed', String(shot.reroll));
  reroll.className = 'reroll';
  reroll.title = document.body.dataset.rerollHint;
  reroll.addEventListener('click', () => save(shot, { reroll: !shot.reroll }));
  const note = el('button', { type: 'button', className: 'note-button', textContent: 'Note' });
  note.addEventListener('click', () => editNote(shot));
  section.append(el('div', { className: 'tools' }, reroll, note,
    el('span', { className: 'note', textContent: shot.note })));
  return section;
}
function render() {
  const main = $('main');
  main.replaceChildren(...state.shots.map(shotCard));
  $('#title').textContent = 'Review \\u00b7 ' + state.manifest;
}
function select(i, scroll = true) {
  if (!state || state.shots.length === 0) return;
  current = Math.max(0, Math.min(state.shots.length - 1, i));
  document.querySelectorAll('.shot').forEach((s, n) => s.classList.toggle('current', n === current));
  if (scroll) document.getElementById('shot-' + current).scrollIntoView({ block: 'nearest' });
}
async function save(shot, change) {
  const body = { revision: state.revision, shot: shot.id, variant: shot.variant, ...change };
  const r = await fetch('/api/pick', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body) });
  const reply = await r.json().catch(() => ({}));
  if (r.status === 409) {
    shotAlert(shot, 'Not saved: ' + reply.error + '. Someone else changed the picks since this page loaded; reload the page to see them.');
    return;
  }
  if (!r.ok) { shotAlert(shot, 'Not saved: ' + (reply.error || r.statusText)); return; }
  shotAlert(shot, '');
  state.revision = reply.revision;
  if (change.take !== undefined) { shot.picked = change.take; shot.stale = null; }
  if (change.reroll !== undefined) shot.reroll = change.reroll;
  if (change.note !== undefined) shot.note = change.note;
  render();
  $('#saved').textContent = 'saved (revision ' + state.revision + ')';
}
function pick(shot, take) { return save(shot, { take }); }
function editNote(shot) {
  const text = window.prompt('Note for ' + shot.label, shot.note);
  if (text !== null) save(shot, { note: text });
}
function playPause() {
  const section = document.getElementById('shot-' + current);
  const videos = [...section.querySelectorAll('video')];
  const playing = videos.find((v) => !v.paused);
  if (playing) { playing.pause(); return; }
  const picked = section.querySelector('.take.picked video') || videos[0];
  if (picked) picked.play().catch(() => {});
}
document.addEventListener('keydown', (e) => {
  if (!state || e.altKey || e.ctrlKey || e.metaKey || e.target.closest('input, textarea')) return;
  const shot = state.shots[current];
  if (/^[1-9]$/.test(e.key)) {
    const take = Number(e.key);
    if (shot && shot.takes.some((t) => t.take === take)) pick(shot, take);
  } else if (e.key === 'j' || e.key === 'ArrowDown' || e.key === 'ArrowRight') select(current + 1);
  else if (e.key === 'k' || e.key === 'ArrowUp' || e.key === 'ArrowLeft') select(current - 1);
  else if (e.key === ' ') playPause();
  else if (e.key === 'r' && shot) save(shot, { reroll: !shot.reroll });
  else if (e.key === 'n' && shot) editNote(shot);
  else return;
  e.preventDefault();
});
fetch('/api/state').then((r) => r.json()).then((s) => {
  state = s;
  render();
  select(0, false);
  $('#saved').textContent = 'picks in ' + s.picksFile + ' (revision ' + s.revision + ')';
  $('#cut').replaceChildren(...s.previews.map((p) => el('a', { className: 'play-cut',
    href: '/files/' + p.file.split('/').map(encodeURIComponent).join('/'), target: '_blank',
    textContent: 'play the cut' + (p.variant ? ' (' + p.variant + ')' : '') })));
}).catch((err) => banner('Could not load the takes: ' + err.message));
`;

/** The page, as served at `/`; the hint of the re-roll button names the option as the caller words it. */
export function reviewPage(): string {
  const rerollHint = escapeHtml(
    `shotlist run ${optionText('reroll')} renders one more take of each marked shot`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shotlist review</title>
<style>${STYLE}</style>
</head>
<body data-reroll-hint="${rerollHint}">
<header>
<h1 id="title">Review</h1>
<span id="saved"></span>
<span id="cut"></span>
<span class="keys"><kbd>1</kbd>–<kbd>9</kbd> pick · <kbd>j</kbd>/<kbd>k</kbd> next/previous shot · <kbd>space</kbd> play/pause · <kbd>r</kbd> re-roll · <kbd>n</kbd> note</span>
</header>
<div id="banner" role="alert"></div>
<main></main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
