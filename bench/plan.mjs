// Plan speed at 10,000 shots, and CLI start-up, each measured side by side with its baseline.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { median, timeIt } from './util.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/shotlist.js');

/** A 10,000-shot manifest in the shape people write: defaults, vars, a few modes. */
export function bigManifest(shots = 10_000) {
  const lines = [
    'version: 1',
    'name: bench-10k',
    'defaults: { model: seedance-2-official, duration: 5, ratio: "16:9", size: 480p }',
    'vars: { hero: 一只橘猫 }',
    'pricing: { currency: CNY, per_second: { seedance-2-official: 1.0, seedance-2-official2-fast: 0.6 } }',
    'shots:',
  ];
  for (let i = 0; i < shots; i++) {
    const id = `s${String(i).padStart(5, '0')}`;
    lines.push(
      `  - id: ${id}`,
      `    prompt: \${hero}在花园里追逐蝴蝶,第${i}个镜头,慢动作,电影级画质`,
    );
    if (i % 3 === 1) lines.push('    assets: { images: [https://example.com/cat.jpg] }');
    if (i % 5 === 2) lines.push('    duration: 8', '    ratio: "9:16"');
  }
  return `${lines.join('\n')}\n`;
}

export async function benchPlan({ repeats = 7 } = {}) {
  const { checkManifest } = await import('../dist/manifest/load.js');
  const { plan } = await import('../dist/plan/plan.js');
  const { planJson } = await import('../dist/cli/commands/plan.js');
  const text = bigManifest();
  const yamlTimes = [];
  const planTimes = [];
  for (let i = 0; i < repeats; i++) {
    yamlTimes.push(timeIt(() => parse(text)));
    planTimes.push(
      timeIt(() => {
        const { loaded } = checkManifest(text, 'bench.yaml');
        JSON.stringify(planJson(plan(loaded)));
      }),
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'shotlist-bench-'));
  const file = path.join(dir, 'bench.yaml');
  writeFileSync(file, text);
  const cliTimes = [];
  const helpTimes = [];
  const nodeTimes = [];
  try {
    for (let i = 0; i < Math.max(3, Math.floor(repeats / 2)); i++) {
      cliTimes.push(
        timeIt(() =>
          execFileSync(process.execPath, [bin, 'plan', '--json', file], { maxBuffer: 1 << 30 }),
        ),
      );
      nodeTimes.push(timeIt(() => execFileSync(process.execPath, ['-e', ''])));
      helpTimes.push(timeIt(() => execFileSync(process.execPath, [bin, '--help'])));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const yamlMs = median(yamlTimes);
  const planMs = median(planTimes);
  return {
    plan_10k_manifest_bytes: { value: Buffer.byteLength(text), unit: 'bytes' },
    plan_10k_yaml_parse_ms: { value: yamlMs, unit: 'ms' },
    plan_10k_in_process_ms: { value: planMs, unit: 'ms' },
    plan_10k_vs_yaml_parse: { value: planMs / yamlMs, unit: 'ratio', target: '<= 2' },
    plan_10k_cli_json_ms: { value: median(cliTimes), unit: 'ms', target: '< 1500' },
    cli_help_ms: { value: median(helpTimes), unit: 'ms' },
    node_startup_ms: { value: median(nodeTimes), unit: 'ms' },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchPlan());
}
