export { startSimulator, parseRange, type Simulator, type SimulatorStats } from './server.js';
export { readLedger, type Ledger, type LedgerEntry } from './ledger.js';
export { KEPT_BODY_LIMIT } from './kept.js';
export {
  parseLatency,
  parseFaults,
  type SimulatorOptions,
  type LatencyRange,
  type FaultKind,
  type FaultRates,
} from './options.js';
export type { TaskObject } from './tasks.js';
export { accountOf } from './quota.js';
