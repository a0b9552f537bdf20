export { startSimulator, parseRange, type Simulator, type SimulatorStats } from './server.js';
export { readLedger, type Ledger, type LedgerEntry } from './ledger.js';
export { KEPT_BODY_LIMIT, type KeptBody } from './kept.js';
export {
  parseLatency,
  parseFaults,
  checkRate,
  FAULT_KINDS,
  DEFAULT_LATENCY,
  DEFAULT_SLOW_SECONDS,
  type SimulatorOptions,
  type SimulatorLogEvent,
  type LatencyRange,
  type FaultKind,
  type FaultRates,
} from './options.js';
export type { TaskObject, TaskError } from './tasks.js';
export { clipSpec, type ClipSpec, type ClipStats } from './clips.js';
