import { EXIT_CODES, formatDiagnostic } from '../../errors.js';
import { formatFindings, type PreflightResult } from '../../assets/preflight.js';
import { numberFlag, parseCommandArgs } from '../args.js';
import { PLAN_FLAGS, manifestArg, planOptionsFrom } from '../common.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist check <manifest> [options]

Preflight alone: asks every http(s) reference of every planned shot for its status, type and
size (a HEAD, else a one-byte GET), and reads reference videos and audios with ffprobe: an
image must be an image (not an HTML page), a file must answer 200 (not 403 or 404), each
reference video must last at least 1.8 s and a shot's videos at most 15 s together.
\`asset://\` ids are passed as they are. The API key is never sent to an asset host. What
ffprobe found is kept in <out>/.preflight.json with the host's ETag / Last-Modified, so an
unchanged file is not read again. \`run\` does the same before it sends anything.

Options:
  --json             one JSON document: { ok, findings, urls, refs, skipped, ms, ... }
  --timeout S        give up on a host that has not answered after S seconds (default 10)
  --simulate         check loopback hosts only, as \`run --simulate\` does
  --out DIR          where the cache lives (default renders/<name> next to the manifest;
                     renders/<name>.simulated with --simulate, as run --simulate)
  --variant, --only, --model, --size, --ratio, --duration   as in plan

Exit 0 when every reference passes, 2 when any fails (or on bad input).
`;

const FLAGS = {
  ...PLAN_FLAGS,
  timeout: { type: 'string' },
  simulate: { type: 'boolean' },
  out: { type: 'string' },
} as const;

/** The `check --json` document. */
export function checkJson(result: PreflightResult) {
  return {
    ok: result.findings.length === 0,
    urls: result.urls,
    refs: result.refs,
    skipped: result.skipped,
    probed: result.probed,
    probe_cache_hits: result.probeCacheHits,
    ms: result.ms,
    findings: result.findings,
  };
}

export default async function check(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.argv, FLAGS, help);
  const { file } = manifestArg(ctx, positionals, 'check');
  const timeout = numberFlag(values.timeout, '--timeout');
  const { checkJob } = await import('../../pipeline/job-check.js');
  const result = await checkJob(
    file,
    {
      cwd: ctx.cwd,
      env: ctx.env,
      signal: ctx.signal,
      ...(values.out !== undefined ? { out: values.out } : {}),
      simulate: values.simulate === true,
      allowOutside: values['allow-outside'] === true,
      planOptions: planOptionsFrom(values),
      ...(timeout !== undefined ? { timeoutMs: Math.max(1, Math.round(timeout * 1000)) } : {}),
    },
    values.json ? undefined : (w) => ctx.stderr.write(`${formatDiagnostic(w)}\n`),
  );
  const ok = result.findings.length === 0;
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(checkJson(result))}\n`);
  } else {
    const skipped =
      result.skipped > 0 ? `, ${result.skipped} on other hosts not fetched (simulated)` : '';
    const summary = `${result.refs} reference${result.refs === 1 ? '' : 's'} (${result.urls} URL${result.urls === 1 ? '' : 's'}) checked in ${result.ms} ms${skipped}`;
    if (ok) ctx.stdout.write(`ok: ${summary}\n`);
    else {
      ctx.stderr.write(`${formatFindings(result.findings)}\n`);
      ctx.stderr.write(
        `${result.findings.length} problem${result.findings.length === 1 ? '' : 's'}: ${summary}\n`,
      );
    }
  }
  return ok ? EXIT_CODES.ok : EXIT_CODES.badInput;
}
