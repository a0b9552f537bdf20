import type { VideoRequest } from '../api/contract.js';
import { readStoredTasks } from './state.js';
import type { TaskStatus } from '../api/types.js';
import { TaskBoard, billableSeconds } from './tasks.js';

/** One accepted submission in the ledger. */
export interface LedgerEntry {
  id: string;
  /** ISO-8601 time the POST arrived. */
  received_at: string;
  /** The JSON body as the client sent it; only its essentials when `body_trimmed`. */
  body: VideoRequest;
  /** sha256 (hex) of the bytes of the body as sent. */
  body_sha256: string;
  /** Size in bytes of the body as sent. */
  body_bytes: number;
  /** Present when the body was too large to keep whole: `body` holds its essentials. */
  body_trimmed?: true;
  /** Seconds the task bills if it completes (`duration`, default 5). */
  seconds: number;
  status: TaskStatus;
  /** The `Idempotency-Key` header, recorded but not honoured (the reference has none). */
  idempotency_key: string | null;
  /** Present when the task was created although the client got this fault instead of an id. */
  fault?: '500' | 'reset';
  /** The account that created it (`acct_` + a digest of its key), when known. */
  account?: string;
}

/** What was submitted and billed: the body of `GET /__sim/ledger`. */
export interface Ledger {
  submissions: LedgerEntry[];
  totals: {
    submissions: number;
    /** Seconds of the completed tasks; failed and unfinished ones bill nothing. */
    billed_seconds: number;
    /** Requests to the file origin that carried an Authorization header (a leaked key). */
    file_requests_with_authorization: number;
    /** Tasks created although the client was answered with a 500 or a reset. */
    ambiguous_submissions: number;
  };
}

/** The ledger of every task on `board` at `now` (ms). */
export function buildLedger(board: TaskBoard, now: number, fileAuthCount: number): Ledger {
  board.advance(now);
  const submissions: LedgerEntry[] = [];
  let billed = 0;
  let ambiguous = 0;
  for (const task of board.tasks.values()) {
    const status = TaskBoard.view(task, now, () => '').status;
    const seconds = billableSeconds(task.body);
    if (status === 'completed') billed += seconds;
    if (task.fault) ambiguous++;
    submissions.push({
      id: task.id,
      received_at: new Date(task.receivedAt).toISOString(),
      body: task.body,
      body_sha256: task.bodySha256,
      body_bytes: task.bodyBytes,
      ...(task.bodyTrimmed ? { body_trimmed: true as const } : {}),
      seconds,
      status,
      idempotency_key: task.idempotencyKey,
      ...(task.fault ? { fault: task.fault } : {}),
      ...(task.account !== undefined ? { account: task.account } : {}),
    });
  }
  return {
    submissions,
    totals: {
      submissions: submissions.length,
      billed_seconds: billed,
      file_requests_with_authorization: fileAuthCount,
      ambiguous_submissions: ambiguous,
    },
  };
}

/**
 * The ledger of a simulator's state folder, read from disk: every submission any process
 * accepted there, with its status at `now`. Requests with a leaked key are not kept on disk
 * (counted as 0). `maxConcurrent` replays the queue as the simulators had it.
 */
export async function readLedger(
  stateDir: string,
  options: { now?: number; maxConcurrent?: number } = {},
): Promise<Ledger> {
  const board = new TaskBoard({
    latency: { min: 0, max: 0 },
    failRate: 0,
    maxConcurrent: options.maxConcurrent ?? Infinity,
    random: Math.random,
    idRandom: Math.random,
  });
  board.restore(await readStoredTasks(stateDir));
  return buildLedger(board, options.now ?? Date.now(), 0);
}
