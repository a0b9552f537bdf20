/**
 * shotlist's programmatic API: the same stages the CLI runs, as functions.
 * validate -> plan -> render -> stitch -> report.
 */
export * from './errors.js';
export * from './models.js';
export {
  loadManifest,
  validateManifest,
  checkManifest,
  MAX_MANIFEST_BYTES,
  type LoadedManifest,
  type CheckResult,
} from './manifest/load.js';
export type * from './manifest/types.gen.js';
export { plan, type PlanOptions } from './plan/plan.js';
export { formatPlan } from './plan/format.js';
export { checkBudget } from './plan/budget.js';
export {
  checkRequest,
  requestMode,
  type VideoRequest,
  type VideoRequestMetadata,
  type RequestProblem,
} from './api/contract.js';
export type * from './plan/types.js';
export { locateTool, detectFeatures } from './media/locate.js';
export {
  startSimulator,
  parseLatency,
  parseFaults,
  type Simulator,
  type SimulatorOptions,
  type SimulatorStats,
  type Ledger,
  type LedgerEntry,
  type LatencyRange,
  type FaultKind,
  type FaultRates,
  type TaskObject,
} from './sim/index.js';
export { probe, probeAll, verifyVideo, type ProbeResult } from './media/probe.js';
export {
  planStitch,
  copyBlocker,
  XFADE_TRANSITIONS,
  TRANSITION_TYPES,
  type StitchOptions,
  type StitchClip,
  type Transition,
  type TransitionType,
  type Soundtrack,
  type StitchPlan,
} from './media/stitch-plan.js';
export { stitch, type StitchResult, type StitchDeps } from './media/stitch.js';
export { stitchJobs, type StitchJob, type StitchSpec } from './media/outputs.js';
export { thumbnail, contactSheet } from './media/thumbnail.js';
export { renderReportHtml } from './report/html.js';
export { writeReport } from './report/write.js';
export type { RunReport, ShotReport, OutputReport, ShotStatus } from './report/types.js';
export {
  render,
  DEFAULT_CONCURRENCY,
  DEFAULT_DEADLINE_MS,
  type RenderOptions,
  type RenderDeps,
  type RenderResult,
  type ShotResult,
  type ShotOutcome,
  type VerifyClip,
} from './render/render.js';
export {
  idempotencyKey,
  readJournal,
  JOURNAL_FILE,
  type JournalEntry,
  type JournalShot,
} from './render/journal.js';
export {
  assessShots,
  summarizeAssessment,
  type AssessedShot,
  type ShotState,
} from './render/state.js';
export { type RenderEvent, type ShotError } from './render/events.js';
export {
  bodyFingerprint,
  clipPath,
  journalKey,
  shotLabel,
  takeKey,
  thumbnailName,
} from './manifest/identity.js';
export { assembleReport, toRunReport, type ReportSources } from './pipeline/report.js';
export {
  createApiClient,
  DEFAULT_MAX_DOWNLOAD_BYTES,
  type ApiClient,
  type ApiClientOptions,
  type SubmitResult,
} from './api/client.js';
export { createRequestGate, type RequestGate } from './api/gate.js';
export { DEFAULT_POLL_TUNING, type PollTuning } from './render/poll.js';
export { getRenderer } from './ui/renderer.js';
export { assembleOutputs } from './media/assemble.js';
export { runManifest } from './pipeline/run.js';
export { prepareRun } from './pipeline/prepare.js';
export { executeRun } from './pipeline/execute.js';
export { stitchRendered, stitchManifest, type StitchRenderedOptions } from './pipeline/stitch.js';
export type {
  StitchRenderedResult,
  RunOptions,
  RunCallbacks,
  RunResult,
  RunStatus,
  PreparedRun,
} from './pipeline/types.js';
export { manifestStatus, type ManifestStatus, type StatusOptions } from './pipeline/status.js';
