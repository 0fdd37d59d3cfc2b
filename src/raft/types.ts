// Types crossing the core's boundary: configuration, persisted state, messages,
// directives and the Ready batch. The core never inspects record bytes: where a message
// or directive carries them, the field is `Records`, an opaque handle owned by the shell.

export type NodeId = number

/** The shell's record bytes (e.g. a Uint8Array of batches). The core only passes it along. */
export type Records = unknown

/** Persisted atomically (write + fsync + rename) before any message of the same Ready leaves. */
export interface QuorumState {
  readonly epoch: number
  readonly votedFor: NodeId | null
  readonly leaderId: NodeId | null
}

/** First offset written in an epoch. Epochs are Raft terms (`partitionLeaderEpoch`), from 1. */
export interface EpochStart {
  readonly epoch: number
  readonly startOffset: number
}

/** The core's entire view of the log: positions and the epoch cache, never bytes. */
export interface LogView {
  readonly logStart: number
  readonly logEnd: number
  readonly flushedEnd: number
  readonly epochs: readonly EpochStart[]
}

export type Role = 'unattached' | 'follower' | 'prospective' | 'candidate' | 'leader'

/**
 * Test-only switches that re-introduce known consensus bugs, so the simulator can prove
 * it catches them. Never set in production.
 */
export interface BugSwitches {
  /** Figure 8: advance the HW over earlier-epoch entries by counting replicas alone. */
  readonly commitByCountingReplicas?: boolean
  /** Answer a Vote without persisting votedFor first. */
  readonly forgetVotePersist?: boolean
  /** Count a voter's fetch position instead of its flushed offset toward the HW. */
  readonly countFetchPosition?: boolean
  /** Grant pre-votes without comparing logs. */
  readonly preVoteSkipsLogCheck?: boolean
}

export interface RaftConfig {
  readonly id: NodeId
  /** The voter set; a node not in it is an observer (replicates, never votes or leads). */
  readonly voters: readonly NodeId[]
  /** Base election timeout; each wait is randomized in [base, 2 * base). */
  readonly electionTimeoutTicks: number
  /** Follower: no successful fetch for this long starts a pre-vote. Leader: check-quorum. */
  readonly fetchTimeoutTicks: number
  /** How long a leader parks a fetch that has nothing to return. */
  readonly fetchMaxWaitTicks: number
  /** A follower re-sends an unanswered fetch after this long (> fetchMaxWaitTicks). */
  readonly fetchRetryTicks: number
  /** A leader re-sends BeginQuorumEpoch to voters that have not fetched, this often. */
  readonly beginQuorumRetryTicks: number
  readonly fetchMaxBytes: number
  /** Injected randomness: a uniform integer in [0, bound). */
  readonly random: (bound: number) => number
  readonly bugs?: BugSwitches
}

// ---- Messages (KIP-595 shape). `epoch` is always the sender's epoch unless noted. ----

interface MessageBase {
  readonly from: NodeId
  readonly to: NodeId
  readonly epoch: number
}

/** A (pre-)vote request; `epoch` is the epoch being campaigned for. */
export interface VoteRequest extends MessageBase {
  readonly type: 'vote'
  readonly preVote: boolean
  readonly lastEpoch: number
  readonly logEnd: number
}

/** `epoch` is the requested epoch when granted, else the responder's epoch. */
export interface VoteResponse extends MessageBase {
  readonly type: 'voteResponse'
  readonly preVote: boolean
  readonly granted: boolean
  readonly leaderId: NodeId | null
}

/** From a new leader to every voter: "I lead `epoch`; fetch from me." */
export interface BeginQuorumEpoch extends MessageBase {
  readonly type: 'beginQuorumEpoch'
}

/** From a resigning leader: start an election now, preferring these successors in order. */
export interface EndQuorumEpoch extends MessageBase {
  readonly type: 'endQuorumEpoch'
  readonly preferredSuccessors: readonly NodeId[]
}

export interface FetchRequest extends MessageBase {
  readonly type: 'fetch'
  /** Matches the response to the request; a follower has one fetch outstanding. */
  readonly fetchId: number
  readonly fetchOffset: number
  readonly lastFetchedEpoch: number
  readonly flushedOffset: number
  readonly maxBytes: number
}

export type FetchResponse =
  | FetchRecords
  | FetchDiverging
  | FetchOutOfRange
  | FetchNotLeader

interface FetchResponseBase extends MessageBase {
  readonly type: 'fetchResponse'
  readonly fetchId: number
  readonly fetchOffset: number
}

/** Records from `fetchOffset` (filled in by the shell per an attachRecords directive). */
export interface FetchRecords extends FetchResponseBase {
  readonly kind: 'records'
  readonly highWatermark: number
  records: Records | null
}

/** The follower's log diverges: truncate to at most `endOffset` of `divergingEpoch`. */
export interface FetchDiverging extends FetchResponseBase {
  readonly kind: 'diverging'
  readonly highWatermark: number
  readonly divergingEpoch: number
  readonly divergingEndOffset: number
}

/** The fetch offset is below the leader's log start: start over from `logStart`. */
export interface FetchOutOfRange extends FetchResponseBase {
  readonly kind: 'outOfRange'
  readonly highWatermark: number
  readonly logStart: number
}

/** The receiver does not lead `epoch`; `leaderId` is its hint (null if unknown). */
export interface FetchNotLeader extends FetchResponseBase {
  readonly kind: 'notLeader'
  readonly leaderId: NodeId | null
}

export type Message =
  | VoteRequest
  | VoteResponse
  | BeginQuorumEpoch
  | EndQuorumEpoch
  | FetchRequest
  | FetchResponse

// ---- Directives to the log shell, executed in order before the Ready's messages leave. ----

/** Append a LeaderChange control batch stamped with `epoch` at the log end. */
export interface AppendLeaderChange {
  readonly kind: 'appendLeaderChange'
  readonly epoch: number
  readonly voters: readonly NodeId[]
}

/** Append the leader's records exactly as received; they start at `fromOffset` (= log end). */
export interface AppendFetched {
  readonly kind: 'appendFetched'
  readonly fromOffset: number
  readonly records: Records
}

/** Read from `fromOffset` up to `maxBytes` (whole batches) into `response.records`. */
export interface AttachRecords {
  readonly kind: 'attachRecords'
  readonly response: FetchRecords
  readonly fromOffset: number
  readonly maxBytes: number
}

/** Remove every offset >= `offset` (divergence after a failover). */
export interface Truncate {
  readonly kind: 'truncate'
  readonly offset: number
}

/** Delete the whole log and restart it empty at `logStart` (behind the leader's log start). */
export interface ResetLog {
  readonly kind: 'resetLog'
  readonly logStart: number
}

export type Directive = AppendLeaderChange | AppendFetched | AttachRecords | Truncate | ResetLog

export interface Leadership {
  readonly role: Role
  readonly epoch: number
  readonly leaderId: NodeId | null
}

/**
 * One batch of output. The shell must, in this order: persist `quorumState` (if set),
 * execute `directives`, send `messages`, then call `advance()`. Appends caused by the
 * directives are reported with `appended()` after `advance()`, in directive order.
 */
export interface Ready {
  readonly quorumState: QuorumState | null
  readonly directives: readonly Directive[]
  readonly messages: readonly Message[]
  /** The new high watermark (exclusive) if it advanced since the last Ready. */
  readonly highWatermark: number | null
  /** Set when role, epoch or leader changed since the last Ready. */
  readonly leadership: Leadership | null
}

export type ProposeResult =
  | { readonly ok: true; readonly epoch: number }
  | {
      readonly ok: false
      readonly reason: 'notLeader' | 'leaderNotReady' | 'backpressure'
      readonly leaderId: NodeId | null
      readonly epoch: number
    }

export interface Status {
  readonly id: NodeId
  readonly voter: boolean
  readonly role: Role
  readonly epoch: number
  readonly votedFor: NodeId | null
  readonly leaderId: NodeId | null
  readonly highWatermark: number
  readonly logStart: number
  readonly logEnd: number
  readonly flushedEnd: number
  readonly lastEpoch: number
}
