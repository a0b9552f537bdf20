import { createServer, request as httpRequest, type Server } from 'node:http';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import { BIN, shotlist } from '../helpers/cli.js';
import { runArgs } from '../e2e/run-helpers.js';
import { record } from './figures.js';
import { env, keyLeaks, partFiles, readReport, useSimulator, writeManifest } from './common.js';

const GNU_TIME = '/usr/bin/time';

const bench = useSimulator('shotlist-hostile-', { latency: 0, seed: 66 });

describe('hostile input', () => {
  it('every manifest of the bad corpus is refused with a location, and nothing is sent', async () => {
    const { tmp, sim } = bench;
    const dir = path.resolve(import.meta.dirname, '../fixtures/bad');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    let refused = 0;
    let located = 0;
    const outputs: string[] = [];
    const limit = pLimit(3);
    await Promise.all(
      files.map((f) =>
        limit(async () => {
          const file = path.join(dir, f);
          const r = await shotlist(
            ['run', file, '--base-url', sim.url, '--out', path.join(tmp.dir, 'bad'), '--yes'],
            { env, cwd: tmp.dir },
          );
          outputs.push(r.stdout, r.stderr);
          const expected = /^# expect: (\d+):/m.exec(readFileSync(file, 'utf8'))![1];
          if (r.exitCode === 2) refused++;
          if (r.stderr.includes(`${file}:${expected}:`)) located++;
        }),
      ),
    );
    const figures = {
      'bad manifests': files.length,
      'refused with exit 2': refused,
      'refused at the expected file:line': located,
      'submissions sent': sim.ledger().totals.submissions,
      'key leaks': keyLeaks(outputs, tmp.dir),
    };
    record(
      'hostile',
      'bad-manifest corpus through run',
      refused === files.length &&
        located === files.length &&
        figures['submissions sent'] === 0 &&
        figures['key leaks'] === 0,
      figures,
    );
    expect(figures).toEqual({
      'bad manifests': files.length,
      'refused with exit 2': files.length,
      'refused at the expected file:line': files.length,
      'submissions sent': 0,
      'key leaks': 0,
    });
  });

  it('an alias bomb and a 50 MB manifest are refused fast with bounded memory', async () => {
    const { tmp } = bench;
    const bomb = path.join(tmp.dir, 'bomb.yaml');
    const levels = Array.from({ length: 9 }, (_, i) => {
      const n = String.fromCharCode(97 + i);
      const p = String.fromCharCode(96 + i);
      return i === 0
        ? `${n}: &${n} [x, x, x, x, x, x, x, x, x, x]`
        : `${n}: &${n} [${Array(10).fill(`*${p}`).join(', ')}]`;
    });
    writeFileSync(
      bomb,
      `version: 1\nname: bomb\n${levels.join('\n')}\nshots:\n  - { id: a, prompt: hi }\n`,
    );
    const huge = path.join(tmp.dir, 'huge.yaml');
    writeFileSync(
      huge,
      `version: 1\nname: huge\nshots:\n${'  - { id: a, prompt: hello }\n'.repeat((50 * 1024 * 1024) / 29)}`,
    );
    const figures: Record<string, number | string> = {};
    let passed = true;
    for (const [name, file] of [
      ['alias bomb', bomb],
      ['50 MB manifest', huge],
    ] as const) {
      const started = Date.now();
      // A 64 MB heap: expanding the bomb or parsing 50 MB of YAML would not fit in it.
      const node = [process.execPath, '--max-old-space-size=64', BIN, 'validate', file];
      // "Fast" is the CPU time the refusal took (GNU time where there is one): the work done,
      // which other processes on a busy machine do not stretch as they stretch the wall clock.
      const timed = existsSync(GNU_TIME);
      const [command, ...args] = timed ? [GNU_TIME, '-f', 'CPU_S=%U %S', ...node] : node;
      const r = await execa(command!, args, { reject: false, env: { CI: 'true' } });
      const cpu = /CPU_S=([\d.]+) ([\d.]+)/.exec(String(r.stderr));
      const ms = cpu ? Math.round((Number(cpu[1]) + Number(cpu[2])) * 1000) : Date.now() - started;
      figures[`${name}: exit code`] = r.exitCode ?? -1;
      figures[`${name}: ${cpu ? 'CPU ms' : 'ms'} to refuse`] = ms;
      passed &&= r.exitCode === 2 && ms < 10_000 && /alias|limit is 5 MB/.test(String(r.stderr));
    }
    record('hostile', 'alias bomb and 50 MB manifest', passed, figures);
    expect(figures).toMatchObject({ 'alias bomb: exit code': 2, '50 MB manifest: exit code': 2 });
    expect(passed).toBe(true);
  });

  it('a download that redirects to another host gets no Authorization header', async () => {
    const { tmp, sim } = bench;
    // An API in front of the simulator whose video URLs live on the API's own origin and
    // redirect to the simulator's file origin: the key may go to the first, never the second.
    let redirects = 0;
    const proxy: Server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/redirect') {
        redirects++;
        res.writeHead(302, { location: url.searchParams.get('to')! }).end();
        return;
      }
      const upstream = httpRequest(
        `${sim.url}${req.url}`,
        { method: req.method, headers: { ...req.headers, host: new URL(sim.url).host } },
        (up) => {
          const chunks: Buffer[] = [];
          up.on('data', (c: Buffer) => chunks.push(c));
          up.on('end', () => {
            let body = Buffer.concat(chunks).toString('utf8');
            try {
              const task = JSON.parse(body) as { metadata?: { url?: string } };
              if (task.metadata?.url) {
                task.metadata.url = `${proxyUrl}/redirect?to=${encodeURIComponent(task.metadata.url)}`;
                body = JSON.stringify(task);
              }
            } catch {
              // not JSON: pass through
            }
            res.writeHead(up.statusCode ?? 502, { 'content-type': 'application/json' }).end(body);
          });
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const before = sim.ledger().totals.file_requests_with_authorization;
    const manifest = writeManifest(tmp.dir, 3, 'redirect');
    const out = path.join(tmp.dir, 'redirect-out');
    const r = await shotlist(['run', manifest, '--base-url', proxyUrl, '--out', out, '--yes'], {
      env,
      cwd: tmp.dir,
    });
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    const figures = {
      'exit code': r.exitCode ?? -1,
      'shots done': readReport(out).totals.done,
      'auth sent to the redirect target':
        sim.ledger().totals.file_requests_with_authorization - before,
      'redirects followed': redirects,
    };
    record(
      'hostile',
      'redirect to another host',
      r.exitCode === 0 && figures['auth sent to the redirect target'] === 0,
      figures,
    );
    expect(figures).toMatchObject({
      'exit code': 0,
      'shots done': 3,
      'auth sent to the redirect target': 0,
    });
  });

  it('a download over the size cap is refused and leaves no file behind', async () => {
    const { tmp, sim } = bench;
    const manifest = writeManifest(tmp.dir, 2, 'capped');
    const out = path.join(tmp.dir, 'capped-out');
    const r = await shotlist(runArgs(manifest, sim, out, '--max-download-mb', '0.01'), {
      env,
      cwd: tmp.dir,
    });
    const report = readReport(out);
    const figures = {
      'exit code': r.exitCode ?? -1,
      'shots refused for size': report.shots.filter(
        (s) => s.status !== 'done' && /size|large|cap/i.test(s.error?.message ?? ''),
      ).length,
      'clip files kept': report.shots.filter((s) => s.file && existsSync(path.join(out, s.file)))
        .length,
      'leftover .part files': partFiles(out),
    };
    record(
      'hostile',
      'download size cap',
      r.exitCode === 1 &&
        figures['shots refused for size'] === 2 &&
        figures['clip files kept'] === 0 &&
        figures['leftover .part files'] === 0,
      figures,
    );
    expect(figures).toEqual({
      'exit code': 1,
      'shots refused for size': 2,
      'clip files kept': 0,
      'leftover .part files': 0,
    });
  });

  it('folder names and prompts with shell metacharacters reach ffmpeg intact', async () => {
    const { tmp } = bench;
    const weird = path.join(tmp.dir, `out dir 'quoted' "double" $(touch pwned) ; | & 猫`);
    const prompt = `a cat; rm -rf / && echo $(whoami) | tee \`id\` > 'x' "y" %s \\n 猫`;
    const manifest = path.join(tmp.dir, 'weird.yaml');
    writeFileSync(
      manifest,
      `version: 1\nname: weird\ndefaults: { duration: 4, audio: false }\nshots:\n  - id: s1\n    prompt: ${JSON.stringify(prompt)}\n  - id: s2\n    prompt: ${JSON.stringify(`${prompt} again`)}\nstitch: { transition: { type: fade, duration: 0.5 } }\n`,
    );
    const r = await shotlist(
      ['run', manifest, '--simulate', '--sim-latency', '0.2-0.6', '--out', weird, '--yes'],
      {
        env: { CI: 'true' },
        cwd: tmp.dir,
      },
    );
    const report = readReport(weird);
    const final = report.outputs[0]?.file;
    const figures = {
      'exit code': r.exitCode ?? -1,
      'shots done': report.totals.done,
      'prompt intact in the report': report.shots[0]?.prompt === prompt ? 'yes' : 'no',
      'stitched output': final && existsSync(path.join(weird, final)) ? 'yes' : 'no',
      'stray files from the metacharacters':
        existsSync(path.join(tmp.dir, 'pwned')) || existsSync('pwned') ? 1 : 0,
    };
    record(
      'hostile',
      'shell metacharacters',
      r.exitCode === 0 &&
        figures['stitched output'] === 'yes' &&
        figures['stray files from the metacharacters'] === 0,
      figures,
    );
    expect(figures, r.stderr).toEqual({
      'exit code': 0,
      'shots done': 2,
      'prompt intact in the report': 'yes',
      'stitched output': 'yes',
      'stray files from the metacharacters': 0,
    });
  });
});
