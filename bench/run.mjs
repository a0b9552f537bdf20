// `npm run bench`: runs every benchmark and writes bench/results.json and bench/results.md.
// Comparisons are measured side by side in the same run (ratios, not absolute times), since
// these machines are shared and noisy.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);

const SUITES = [
  ['plan', './plan.mjs', 'benchPlan'],
  ['sim', './sim.mjs', 'benchSim'],
  ['render', './render.mjs', 'benchRender'],
  // 60 shots against a key capped at 3 tasks, and the same without a cap.
  ['adaptive', './adaptive.mjs', 'benchAdaptive'],
  // 40 shots in 10 chains of 4 (last frame -> first frame), the run's own dependency graph.
  ['chains', './chains.mjs', 'benchChains'],
  ['stitch', './stitch.mjs', 'benchStitch'],
  // A 60 s film as a 1080p deliverable (loudness passes included) and as the 360 px preview.
  ['exports', './exports.mjs', 'benchExports'],
  ['webhook', './webhook.mjs', 'benchWebhook'],
  ['preflight', './preflight.mjs', 'benchPreflight'],
  // Three processes through one redis-server (skipped, with the reason, without one).
  ['team', './team.mjs', 'benchTeam'],
  // 200 MB through a loopback S3 server.
  ['upload', './upload.mjs', 'benchUpload'],
];

const figures = {};
const errors = {};
const started = Date.now();
for (const [name, file, fn] of SUITES) {
  if (only.length && !only.includes(name)) continue;
  const t0 = Date.now();
  process.stderr.write(`bench: ${name}...\n`);
  try {
    const mod = await import(path.join(here, file));
    Object.assign(figures, await mod[fn]());
    process.stderr.write(`bench: ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  } catch (error) {
    errors[name] = String(error?.stack ?? error);
    process.stderr.write(`bench: ${name} failed: ${error?.message ?? error}\n`);
  }
}

// `npm run bench -- plan` re-measures one suite and keeps the other figures of the last run.
if (only.length) {
  try {
    const previous = JSON.parse(readFileSync(path.join(here, 'results.json'), 'utf8')).figures;
    for (const [k, f] of Object.entries(previous)) if (!(k in figures)) figures[k] = f;
  } catch {
    // no earlier results: write what was measured
  }
}
const round = (v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v);
const result = {
  date: new Date().toISOString(),
  command: only.length
    ? `npm run bench -- ${only.join(' ')} (other figures from the last full run)`
    : 'npm run bench',
  machine: {
    cores: os.cpus().length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  },
  seconds: round((Date.now() - started) / 1000),
  figures: Object.fromEntries(
    Object.entries(figures).map(([k, f]) => [k, { ...f, value: round(f.value) }]),
  ),
  ...(Object.keys(errors).length ? { errors } : {}),
};
writeFileSync(path.join(here, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);

const rows = Object.entries(result.figures).map(
  ([k, f]) => `| \`${k}\` | ${f.value} | ${f.unit} | ${f.target ?? ''} | ${f.note ?? ''} |`,
);
const md = [
  `Measured ${result.date.slice(0, 10)} with \`${result.command}\` on ${result.machine.cores} cores, Node ${result.machine.node}.`,
  '',
  '| figure | value | unit | target | note |',
  '|---|---:|---|---|---|',
  ...rows,
  '',
].join('\n');
writeFileSync(path.join(here, 'results.md'), md);
process.stdout.write(md);
if (Object.keys(errors).length) process.exitCode = 1;
