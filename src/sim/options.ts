import { UsageError } from '../errors.js';
import { parseQuotas, type Quotas } from './quota.js';

/** Submit-to-completion time of a task, in seconds, drawn uniformly from [min, max]. */
export interface LatencyRange {
  min: number;
  max: number;
}

export const FAULT_KINDS = ['429', '500', '502', 'reset', 'slow', 'truncate'] as const;
/**
 * A fault injected into one request: `429` (with Retry-After), `500`/`502`, `reset` (the
 * socket is destroyed), `slow` (the answer comes late), `truncate` (a file download is cut
 * short after a correct Content-Length).
 */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The chance (0..1) of each fault per request; the faults are exclusive, so they sum to at most 1. */
export type FaultRates = Partial<Record<FaultKind, number>>;

export interface SimulatorLogEvent {
  level: 'info' | 'warn';
  message: string;
}

export interface SimulatorOptions {
  /** Port of the API listener; 0 (the default) picks a free one. */
  port?: number;
  /** Port of the file listener (the second origin that serves the videos); 0 by default. */
  filePort?: number;
  /** The key clients must send as `Bearer`; unset accepts any non-empty token. */
  apiKey?: string;
  /** Submit-to-completion time: `{min,max}` seconds or the `2-6s` / `0` text form. Default 2-6 s. */
  latency?: LatencyRange | string | number;
  /** Share of tasks (0..1) that end `failed` with a content-filter error. Default 0. */
  failRate?: number;
  /** Per-request fault rates, or the `429=0.1,500=0.05` text form. Default none. */
  faults?: FaultRates | string;
  /** How long a `slow` answer waits, in seconds. Default 3. */
  slowSeconds?: number;
  /** Tasks running at once; those beyond it stay `queued`. Default unbounded. */
  maxConcurrent?: number;
  /** Makes every random choice (ids, latency, failures, faults) reproducible. */
  seed?: number;
  /**
   * Seconds each key may be billed, by key (or `KEY=SECONDS` text): once spent, a POST is
   * refused with 403. These keys are accepted besides `apiKey`. Default: no quota.
   */
  quota?: Quotas | string | readonly string[];
  /** Tasks one key may have queued or running; one more is answered 429. Default unbounded. */
  keyConcurrency?: number;
  /**
   * Seconds added to what a completed task reports billing (`seconds`, `usage`), to stand
   * for a gateway that bills otherwise than the request says. Default 0.
   */
  billExtraSeconds?: number;
  /**
   * Environment used to locate ffmpeg (`FFMPEG_PATH`, else the bundled static build, else
   * `PATH`; see clips.ts). Default `process.env`.
   */
  env?: NodeJS.ProcessEnv;
  /** Where clips are cached across runs. Default `<stateDir>/clips`, else `<tmpdir>/shotlist-sim-clips`. */
  cacheDir?: string;
  /**
   * A folder where the simulator keeps its tasks (and, unless `cacheDir` says otherwise, its
   * clips): a simulator started again on it serves the same tasks, continues their timelines
   * and serves their files, on the same file port when that port is free. Default none: the
   * tasks live as long as the process.
   */
  stateDir?: string;
  /** Milliseconds since the epoch; injectable so tests can step task lifecycles. */
  clock?: () => number;
  /** Notable events (a webhook that failed, an encode that broke); the simulator prints nothing. */
  onLog?: (event: SimulatorLogEvent) => void;
  /** Share of webhook calls (0..1) never made, as a push lost on the way. Default 0. */
  webhookLoss?: number;
  /** Share of webhook calls (0..1) made twice. Default 0. */
  webhookDup?: number;
  /**
   * How long each webhook call waits after the task ends, in ms: a number or `{min,max}`
   * (each call draws its own, so calls arrive out of order). Default 0.
   */
  webhookDelayMs?: number | LatencyRange;
}

const DEFAULT_LATENCY: LatencyRange = { min: 2, max: 6 };
const DEFAULT_SLOW_SECONDS = 3;

const NUMBER = String.raw`(\d+(?:\.\d+)?)`;
const LATENCY_FORM = new RegExp(`^${NUMBER}(?:\\s*-\\s*${NUMBER})?\\s*s?$`);

/**
 * Parses `MIN-MAXs` (e.g. `2-6s`, `0.5-1`), a single `Ns`, or `0` (complete at the first poll).
 * Throws a UsageError naming the bad text and the accepted forms.
 */
export function parseLatency(text: string): LatencyRange {
  const match = LATENCY_FORM.exec(text.trim());
  const fix = 'write it as MIN-MAXs (e.g. 2-6s), a single number of seconds, or 0';
  if (!match?.[1]) throw new UsageError(`latency "${text}" is not a time range`, fix);
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (max < min) {
    throw new UsageError(
      `latency "${text}" ends before it starts`,
      `write the smaller number first: ${max}-${min}s`,
    );
  }
  return { min, max };
}

/**
 * Parses `429=0.1,500=0.05,502=0.01,reset=0.02,slow=0.02,truncate=0.05`. Every rate is a
 * share from 0 to 1 and the rates together are at most 1 (a request gets one fault at most).
 */
export function parseFaults(text: string): FaultRates {
  const rates: FaultRates = {};
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'none') return rates;
  for (const part of trimmed.split(',')) {
    const [rawName, rawValue, ...rest] = part.split('=');
    const name = rawName?.trim() ?? '';
    if (rawValue === undefined || rest.length > 0) {
      throw new UsageError(
        `fault "${part.trim()}" is not NAME=RATE`,
        'write faults as NAME=RATE pairs joined by commas, e.g. 429=0.1,500=0.05',
      );
    }
    if (!(FAULT_KINDS as readonly string[]).includes(name)) {
      throw new UsageError(`unknown fault "${name}"`, `use any of ${FAULT_KINDS.join(', ')}`);
    }
    const kind = name as FaultKind;
    if (rates[kind] !== undefined) {
      throw new UsageError(`fault "${kind}" is given twice`, 'give each fault once');
    }
    rates[kind] = checkRate(`fault ${kind}`, Number(rawValue.trim() === '' ? NaN : rawValue));
  }
  return checkFaultRates(rates);
}

/** Checks a share from 0 to 1; throws a UsageError showing the bad value otherwise. */
function checkRate(what: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new UsageError(
      `${what} rate ${value} is not a share from 0 to 1`,
      'use a number such as 0.05 for 5%',
    );
  }
  return value;
}

function checkFaultRates(rates: FaultRates): FaultRates {
  let sum = 0;
  for (const kind of FAULT_KINDS) {
    const rate = rates[kind];
    if (rate !== undefined) sum += checkRate(`fault ${kind}`, rate);
  }
  if (sum > 1 + 1e-9) {
    throw new UsageError(
      `the fault rates add up to ${Number(sum.toFixed(6))}, more than 1`,
      'a request gets at most one fault: lower the rates so they sum to 1 or less',
    );
  }
  return rates;
}

function checkLatency(range: LatencyRange): LatencyRange {
  const ok = (n: number) => Number.isFinite(n) && n >= 0;
  if (!ok(range.min) || !ok(range.max) || range.max < range.min) {
    throw new UsageError(
      `latency ${JSON.stringify(range)} is not a range of seconds`,
      'give {min, max} with 0 <= min <= max',
    );
  }
  return range;
}

/** The options with every default applied and every value checked. */
export interface ResolvedOptions {
  port: number;
  filePort: number;
  apiKey: string | undefined;
  latency: LatencyRange;
  failRate: number;
  faults: Required<FaultRates>;
  slowSeconds: number;
  maxConcurrent: number;
  seed: number | undefined;
  quotas: Quotas;
  keyConcurrency: number;
  billExtraSeconds: number;
  env: NodeJS.ProcessEnv;
  cacheDir: string | undefined;
  stateDir: string | undefined;
  clock: () => number;
  onLog: (event: SimulatorLogEvent) => void;
  webhook: { loss: number; dup: number; delayMs: LatencyRange };
}

function checkExtraSeconds(value: number): number {
  if (!Number.isFinite(value)) {
    throw new UsageError(`billExtraSeconds ${value} is not a number`, 'use a number such as 1');
  }
  return value;
}

function checkPort(what: string, port: number | undefined): number {
  const value = port ?? 0;
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new UsageError(`${what} ${value} is not a port`, 'use 0 (any free port) or 1-65535');
  }
  return value;
}

/** Applies defaults and checks every option; throws a UsageError on the first bad one. */
export function resolveOptions(options: SimulatorOptions = {}): ResolvedOptions {
  const latency =
    options.latency === undefined
      ? DEFAULT_LATENCY
      : typeof options.latency === 'string'
        ? parseLatency(options.latency)
        : typeof options.latency === 'number'
          ? checkLatency({ min: options.latency, max: options.latency })
          : checkLatency(options.latency);
  const partial =
    typeof options.faults === 'string'
      ? parseFaults(options.faults)
      : checkFaultRates(options.faults ?? {});
  const faults = Object.fromEntries(
    FAULT_KINDS.map((k) => [k, partial[k] ?? 0]),
  ) as Required<FaultRates>;
  const maxConcurrent = options.maxConcurrent ?? Infinity;
  if (!(maxConcurrent === Infinity || (Number.isInteger(maxConcurrent) && maxConcurrent >= 1))) {
    throw new UsageError(
      `maxConcurrent ${maxConcurrent} is not a positive whole number`,
      'use 1 or more',
    );
  }
  const keyConcurrency = options.keyConcurrency ?? Infinity;
  if (!(keyConcurrency === Infinity || (Number.isInteger(keyConcurrency) && keyConcurrency >= 1))) {
    throw new UsageError(
      `keyConcurrency ${keyConcurrency} is not a positive whole number`,
      'use 1 or more',
    );
  }
  const slowSeconds = options.slowSeconds ?? DEFAULT_SLOW_SECONDS;
  if (!Number.isFinite(slowSeconds) || slowSeconds < 0) {
    throw new UsageError(`slowSeconds ${slowSeconds} is not a number of seconds`, 'use 0 or more');
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new UsageError(`seed ${options.seed} is not a whole number`, 'use an integer such as 42');
  }
  if (options.apiKey !== undefined && options.apiKey.trim() === '') {
    throw new UsageError(
      'the API key is empty',
      'give a non-empty key, or leave it unset to accept any',
    );
  }
  return {
    port: checkPort('port', options.port),
    filePort: checkPort('file port', options.filePort),
    apiKey: options.apiKey,
    latency,
    failRate: checkRate('fail', options.failRate ?? 0),
    faults,
    slowSeconds,
    maxConcurrent,
    seed: options.seed,
    quotas:
      typeof options.quota === 'string' || Array.isArray(options.quota)
        ? parseQuotas(options.quota)
        : parseQuotas(Object.entries(options.quota ?? {}).map(([k, v]) => `${k}=${v}`)),
    keyConcurrency,
    billExtraSeconds: checkExtraSeconds(options.billExtraSeconds ?? 0),
    env: options.env ?? process.env,
    cacheDir: options.cacheDir,
    stateDir: options.stateDir,
    clock: options.clock ?? Date.now,
    onLog: options.onLog ?? (() => {}),
    webhook: {
      loss: checkRate('webhook loss', options.webhookLoss ?? 0),
      dup: checkRate('webhook duplicate', options.webhookDup ?? 0),
      delayMs: checkLatency(
        typeof options.webhookDelayMs === 'object'
          ? options.webhookDelayMs
          : { min: options.webhookDelayMs ?? 0, max: options.webhookDelayMs ?? 0 },
      ),
    },
  };
}
