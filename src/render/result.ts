/** What a run makes of each shot, and what it bills: the data every phase fills in. */
import type { ApiError } from '../errors.js';
import type { ClientStats } from '../api/client.js';
import type { AccountReport } from '../report/types.js';
import { roundMoney } from '../plan/budget.js';
import type { PlannedShot } from '../plan/types.js';
import type { ChargeKind, CostLedger, Money } from './cost.js';
import type { ShotError } from './events.js';
import type { AssessedShot, ShotState } from './state.js';
import type { ClipVersion } from './store.js';
import type { ShotStatus } from '../report/types.js';

export type { Money };

/** How a shot ended: the report's one shot status (render is above report). */
export type ShotOutcome = ShotStatus;

export interface Charge extends Money {
  kind: ChargeKind;
}

export interface ShotResult {
  shot: PlannedShot;
  key: string;
  label: string;
  /** What the run found before starting it. */
  state: ShotState;
  status: ShotOutcome;
  cached: boolean;
  taskId?: string;
  /** The clip, relative to the output folder. */
  file?: { path: string; bytes: number; sha256: string };
  error?: ShotError;
  /** Epoch milliseconds. */
  submittedAt?: number;
  completedAt?: number;
  downloadedAt?: number;
  /** The seconds the API reported billing for its task, when it did (this run or the journal). */
  reportedSeconds?: number;
  /** POSTs that created a task in this run (0 or 1). */
  submissions: number;
  /** What this run spent on it (0 when cached or resumed). */
  cost: number | null;
  /**
   * What its task means for the bill, as this run saw it: `billed` it completed, `failed` it
   * ended failed (not billed), `at_risk` its submission's outcome is unknown or it is still
   * running (it may be billed). Absent when this run saw no task end or start.
   */
  charge?: Charge;
  /**
   * Team mode: another machine submitted its task and this run followed it; that machine pays
   * for it, so its charge is shown apart, never added to this machine's spend.
   */
  followed?: true;
  /** Every verified clip the journal knows for this shot, oldest first (set at the end). */
  versions?: ClipVersion[];
}

export interface RenderResult {
  outDir: string;
  journalFile: string;
  shots: ShotResult[];
  /** The run was stopped by its signal. */
  interrupted: boolean;
  /** A 401/403 that stopped the whole run. */
  fatal?: ApiError;
  startedAt: number;
  finishedAt: number;
  /**
   * What this run's tasks bill: `cost` and `seconds` are the tasks that completed in this run;
   * `failed` ended failed (not billed); `atRisk` may be billed (unknown outcome, still running).
   * `submissions` counts the POSTs that created a task.
   */
  spent: Money & { submissions: number; failed: Money; atRisk: Money; followed?: Money };
  /** The bill of the whole job: every run the journal records, this one included. */
  ledger: CostLedger;
  requests: ClientStats;
  /** With an account pool (`--accounts`): what each account did, and which were retired. */
  accounts?: AccountReport[];
  /** A torn last journal line (a kill during a write) was cut off. */
  journalRepaired: boolean;
}

/** A shot's result before the run has done anything with it. */
export function startResult(a: AssessedShot, status: ShotOutcome): ShotResult {
  return {
    shot: a.shot,
    key: a.key,
    label: a.label,
    state: a.state,
    status,
    cached: false,
    submissions: 0,
    cost: 0,
  };
}

/** What `seconds` of a shot come to on the bill. */
export function charge(kind: ChargeKind, shot: PlannedShot, seconds = shot.seconds): Charge {
  return {
    kind,
    seconds,
    cost: shot.unit_price === null ? null : roundMoney(shot.unit_price * seconds),
  };
}

/** Adds up the charges of one kind. */
export function sumCharges(charges: readonly (Charge | undefined)[], kind: ChargeKind): Money {
  let seconds = 0;
  let cost: number | null = null;
  for (const c of charges) {
    if (c?.kind !== kind) continue;
    seconds += c.seconds;
    if (c.cost !== null) cost = (cost ?? 0) + c.cost;
  }
  return { seconds, cost };
}
