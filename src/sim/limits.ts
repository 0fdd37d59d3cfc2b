// Named limits of the simulator. Every queue and buffer in src/sim is bounded by one of these.

/** Messages in flight at once; beyond this the network drops (a full switch buffer). */
export const NETWORK_INFLIGHT_MAX = 10_000
/** Trace lines kept in memory (a ring); a failure prints the tail. */
export const TRACE_LINES_MAX = 4000
/** Simulated clients stop proposing while this many offsets are uncommitted (acks=all in-flight limit). */
export const CLIENT_UNCOMMITTED_MAX = 32
/** How long a simulated acks=all producer waits (virtual ms, 200 steps): leadership changes decide first. */
export const CLIENT_ACK_TIMEOUT_MS = 2_000
/** Timers armed at once across a simulated cluster (fsyncs, acks=all timeouts, flush scheduling). */
export const VIRTUAL_TIMERS_MAX = 100_000
/** Promise-settling rounds in one simulated step before the simulator calls the run stuck. */
export const SETTLE_ROUNDS_MAX = 100_000
/** Decisions waiting for a simulated active controller's turn; more are turned away (its CONTROLLER_QUEUED_MAX, scaled to the simulated load). */
export const CONTROLLER_QUEUE_MAX = 8
