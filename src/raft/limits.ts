// Named limits of the replicated-log core. Every queue and buffer in src/raft is bounded
// by one of these; exceeding one is either refused (operating error) or asserted
// (programmer error), never silently grown.

/** Voters in one quorum. Raft groups stay small; 7 tolerates 3 failures. */
export const VOTERS_MAX = 7
/** Non-voting replicas (observers) a leader tracks; fetches from more are refused. */
export const OBSERVERS_MAX = 16
/** Parked fetches on a leader: at most one per replica (a newer fetch supersedes). */
export const PARKED_FETCHES_MAX = VOTERS_MAX + OBSERVERS_MAX
/** Voter records the core remembers between the log start and the log end (one per change, like epochs). */
export const VOTER_SETS_MAX = 1 << 16
/** Messages one ready() may carry; the core emits O(replicas) per input, so this is generous. */
export const READY_MESSAGES_MAX = 1024
/** Directives one ready() may carry. */
export const READY_DIRECTIVES_MAX = 1024
/** Appends the core may wait on (a fetched append, a LeaderChange or a voter record, in practice). */
export const PENDING_APPENDS_MAX = 8
/** Offsets a leader accepts beyond its high watermark before proposals are refused. */
export const UNCOMMITTED_OFFSETS_MAX = 1 << 20
/** Default upper bound on record bytes in one fetch response. */
export const FETCH_MAX_BYTES_DEFAULT = 1 << 20
/** Superseded-but-still-valid fetch ids a follower accepts answers for (same fetch offset). */
export const FETCH_IDS_VALID_MAX = 4
/**
 * Leader log ends remembered per replica to tell when its flush caught up (progress.ts): a
 * follower's flush trails by a fetch or two under load; one further behind than this many
 * fetches is not keeping up.
 */
export const CATCH_UP_SAMPLES_MAX = 8
