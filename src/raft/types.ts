// Types crossing the core's boundary: configuration, persisted state, messages,
// directives and the Ready batch. The core never inspects record bytes: where a message
// or directive carries them, the field is `Records`, an opaque handle owned by the shell.

import type { EpochStart } from '../storage/epoch-cache.js'

export type NodeId = number

/**
 * A replica's directory id (KIP-853): created fresh with its data directory (meta.properties), so
 * a node whose disk was wiped comes back as another replica, (id, new directory id). A voter is
 * the pair; `undefined` means unknown (a bootstrap voter list carries none) and matches any.
 */
export type DirectoryId = string

/** The known directory ids of a voter set's members, by node id; a member absent here has an unknown one. */
export type VoterDirectories = Readonly<Record<NodeId, DirectoryId>>

/** The shell's record bytes (e.g. a Uint8Array of batches). The core only passes it along. */
export type Records = unknown

/** Persisted atomically (write + fsync + rename) before any message of the same Ready leaves. */
export interface QuorumState {
  readonly epoch: number
  readonly votedFor: NodeId | null
  readonly leaderId: NodeId | null
}

/** First offset written in an epoch (the leader-epoch cache is storage's, shared with the log). */
export type { EpochStart }


/** A voter set in force from the control record at `offset` on (offset -1: the bootstrap set). */
export interface VoterSetAt {
  readonly offset: number
  readonly voters: readonly NodeId[]
  /** The voters' directory ids, where known (undefined: none known). */
  readonly directoryIds?: VoterDirectories
}

/**
 * A state-machine snapshot: the application's state after every record below `endOffset`,
 * whose last record has leader epoch `epoch`. Its identity is (endOffset, epoch).
 */
export interface SnapshotId {
  readonly endOffset: number
  readonly epoch: number
}

export interface SnapshotInfo extends SnapshotId {
  readonly sizeBytes: number
}

/** The core's entire view of the log: positions, the epoch cache and voter records, never bytes. */
export interface LogView {
  readonly logStart: number
  readonly logEnd: number
  readonly flushedEnd: number
  readonly epochs: readonly EpochStart[]
  /**
   * Epoch of the record just below `logStart` (0 when the log starts at 0). Retention and
   * snapshots delete that record, so the shell persists its epoch with the log start: an empty
   * log still has to say how up to date it is in elections and fetches.
   */
  readonly logStartEpoch?: number
  /**
   * The voter records of the log, oldest first; the first may lie below `logStart` (it is the
   * set in force there, persisted beside the log). Empty: the config's bootstrap voters.
   */
  readonly voterSets?: readonly VoterSetAt[]
  /** The latest snapshot of a state-machine log (then `logStart` is its end offset). */
  readonly snapshot?: SnapshotInfo | null
  /** Some closed segments were opened without a CRC check: verify before campaigning (damage.ts). */
  readonly unverified?: boolean
  /** A damaged log not yet repaired: it neither votes nor campaigns below this log end (damage.ts). */
  readonly damagedUntil?: number | null
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
  /** Start a voter change while the previous one is still uncommitted (two changes in flight). */
  readonly changeVotersBeforeCommit?: boolean
  /** Start a voter change before the leader's own epoch has committed (Raft's single-server change bug). */
  readonly changeVotersBeforeEpochCommit?: boolean
  /** Keep counting a removed voter's flushed offset toward the HW while it still fetches. */
  readonly countRemovedVoter?: boolean
  /** Take note of the fence but go on leading and campaigning as if unfenced. */
  readonly ignoreFence?: boolean
  /** Treat voters as plain node ids: a wiped node (new directory id) counts, votes and campaigns as the voter it was. */
  readonly ignoreDirectoryIds?: boolean
  /** Let a replica whose log is damaged (truncated below what it held, not yet repaired) grant votes and pre-votes. */
  readonly damagedReplicaVotes?: boolean
}

export interface RaftConfig {
  readonly id: NodeId
  /**
   * This replica's directory id (KIP-853). Absent: unknown, as for a node that predates them;
   * it then matches whatever directory id the voter set records for `id`.
   */
  readonly directoryId?: DirectoryId
  /**
   * The bootstrap voter set, in force until the log holds a voter record. A node not in the
   * set in force is an observer (replicates, never votes or leads).
   */
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
  /**
   * Nodes an observer asks in turn to find the leader (KIP-853's bootstrap servers); default:
   * the voters in force, which may all be gone once the voter set has changed enough.
   */
  readonly observerContacts?: readonly NodeId[]
  /** How long a leadership transfer may wait for its target to catch up (default: 2 election timeouts). */
  readonly transferTimeoutTicks?: number
  /**
   * After `leaderUnreachable` names its leader, a follower pre-votes within [1, this] ticks, at
   * random so that followers told at once do not collide (default: electionTimeoutTicks).
   */
  readonly leaderLinkDropTicks?: number
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
  readonly candidateDirectoryId?: DirectoryId
  /** The directory id the candidate's voter set records for the receiver: a replica with another one refuses. */
  readonly voterDirectoryId?: DirectoryId
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
  /** The directory id the leader's voter set records for the receiver: a replica with another one ignores it. */
  readonly voterDirectoryId?: DirectoryId
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
  /** The fetching replica's directory id: the leader counts the fetch for a voter only if it matches. */
  readonly replicaDirectoryId?: DirectoryId
  /**
   * The fetching replica's high watermark: a leader whose own is higher answers at once instead of
   * parking the fetch (absent from older brokers, whose fetches park until data or the wait's end).
   */
  readonly highWatermark?: number
}

export type FetchResponse =
  | FetchRecords
  | FetchDiverging
  | FetchOutOfRange
  | FetchSnapshotNeeded
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

/**
 * The follower's log ends (or diverges) below the leader's log start and the log has no
 * snapshot (a data partition): delete it and start over at `logStart`, whose preceding record
 * has epoch `logStartEpoch` and under which `voters` are in force.
 */
export interface FetchOutOfRange extends FetchResponseBase {
  readonly kind: 'outOfRange'
  readonly highWatermark: number
  readonly logStart: number
  readonly logStartEpoch: number
  readonly voters: readonly NodeId[]
  readonly directoryIds?: VoterDirectories
}

/** As outOfRange, for a state-machine log: fetch this snapshot (FetchSnapshot), then go on from its end. */
export interface FetchSnapshotNeeded extends FetchResponseBase {
  readonly kind: 'snapshot'
  readonly highWatermark: number
  readonly snapshot: SnapshotInfo
  readonly voters: readonly NodeId[]
  readonly directoryIds?: VoterDirectories
}

/** The receiver does not lead `epoch`; `leaderId` is its hint (null if unknown). */
export interface FetchNotLeader extends FetchResponseBase {
  readonly kind: 'notLeader'
  readonly leaderId: NodeId | null
}

/** A follower downloading the leader's snapshot asks for the bytes from `position`. */
export interface FetchSnapshotRequest extends MessageBase {
  readonly type: 'fetchSnapshot'
  readonly snapshotId: SnapshotId
  readonly position: number
  readonly maxBytes: number
  readonly replicaDirectoryId?: DirectoryId
}

export type FetchSnapshotResponse = SnapshotChunk | SnapshotNotFound | SnapshotNotLeader

interface FetchSnapshotResponseBase extends MessageBase {
  readonly type: 'fetchSnapshotResponse'
  readonly snapshotId: SnapshotId
  readonly position: number
}

/** Bytes [position, position + length) of the snapshot (filled in by an attachSnapshotChunk directive). */
export interface SnapshotChunk extends FetchSnapshotResponseBase {
  readonly kind: 'chunk'
  readonly sizeBytes: number
  readonly length: number
  chunk: Records | null
}

/** The leader no longer has that snapshot (it took a newer one): fetch again. */
export interface SnapshotNotFound extends FetchSnapshotResponseBase {
  readonly kind: 'notFound'
}

export interface SnapshotNotLeader extends FetchSnapshotResponseBase {
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
  | FetchSnapshotRequest
  | FetchSnapshotResponse

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

/**
 * Delete the whole log and restart it empty at `logStart` (behind the leader's log start),
 * persisting `logStartEpoch` and `voters` as the log start's epoch and voter set.
 */
export interface ResetLog {
  readonly kind: 'resetLog'
  readonly logStart: number
  readonly logStartEpoch: number
  readonly voters: readonly NodeId[]
  readonly directoryIds?: VoterDirectories
}

/** Leader: append a voter-set control record (`voters` in force from it on) stamped with `epoch`. */
export interface AppendVoters {
  readonly kind: 'appendVoters'
  readonly epoch: number
  readonly voters: readonly NodeId[]
  readonly directoryIds?: VoterDirectories
}

/** Leader: read bytes [position, position + length) of snapshot `snapshotId` into `response.chunk`. */
export interface AttachSnapshotChunk {
  readonly kind: 'attachSnapshotChunk'
  readonly response: SnapshotChunk
  readonly snapshotId: SnapshotId
  readonly position: number
  readonly length: number
}

/**
 * Follower: write a downloaded chunk at `position` of a pending (not yet durable) snapshot
 * file. Position 0 starts a new download, discarding any partial one.
 */
export interface WriteSnapshotChunk {
  readonly kind: 'writeSnapshotChunk'
  readonly snapshotId: SnapshotId
  readonly position: number
  readonly chunk: Records
}

/**
 * Follower: the download is complete. Atomically (fsync + rename) make it the latest snapshot,
 * delete the log and restart it empty at `snapshot.endOffset` with `voters` in force, and
 * load the snapshot into the state machine.
 */
export interface InstallSnapshot {
  readonly kind: 'installSnapshot'
  readonly snapshot: SnapshotInfo
  readonly voters: readonly NodeId[]
  readonly directoryIds?: VoterDirectories
}

/**
 * Check every batch of the log not yet verified (CRC), then answer with `logVerified()` or
 * `logDamaged(offset)` after `advance()`: the node wants to campaign (damage.ts).
 */
export interface VerifyLog {
  readonly kind: 'verifyLog'
}

export type Directive =
  | AppendLeaderChange
  | AppendFetched
  | AttachRecords
  | Truncate
  | ResetLog
  | AppendVoters
  | AttachSnapshotChunk
  | WriteSnapshotChunk
  | InstallSnapshot
  | VerifyLog

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
  /** The voter set in force, when it changed since the last Ready (appended, truncated or reset). */
  readonly voters: readonly NodeId[] | null
}

/** What a shell reports after appending: epochs and voter sets that begin inside the appended range. */
export interface AppendedRange {
  readonly epochStarts?: readonly EpochStart[]
  readonly voterSets?: readonly VoterSetAt[]
}

export type ProposeResult =
  | { readonly ok: true; readonly epoch: number }
  | {
      readonly ok: false
      /** transferring: leadership is being handed over; retry at the new leader. */
      readonly reason: 'notLeader' | 'leaderNotReady' | 'backpressure' | 'transferring'
      readonly leaderId: NodeId | null
      readonly epoch: number
    }

export type VoterChangeRefusal =
  | 'notLeader'
  /** The leader's epoch is not committed yet (a change needs an entry of its own epoch committed first). */
  | 'leaderNotReady'
  /** A voter change is uncommitted, or a leadership transfer is under way: one change at a time. */
  | 'changeInProgress'
  /** The new voter has not fetched up to the high watermark as an observer yet. */
  | 'notCaughtUp'
  /** Too few members of the new set have been heard from lately to commit anything under it. */
  | 'wouldLoseQuorum'
  | 'alreadyVoter'
  | 'notVoter'
  | 'tooManyVoters'
  | 'lastVoter'

export type VoterChangeResult =
  | { readonly ok: true; readonly voters: readonly NodeId[] }
  | { readonly ok: false; readonly reason: VoterChangeRefusal; readonly leaderId: NodeId | null }

export type TransferResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'notLeader' | 'notVoter' | 'self' | 'inProgress'; readonly leaderId: NodeId | null }

export interface Status {
  readonly id: NodeId
  readonly directoryId: DirectoryId | undefined
  /** In the set in force with a matching directory id (a wiped node whose id is there is not). */
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
  readonly logStartEpoch: number
  readonly voters: readonly NodeId[]
  /** The directory ids the set in force records for its voters (where known). */
  readonly voterDirectoryIds: VoterDirectories
  readonly snapshot: SnapshotInfo | null
  /** Leader: the voter a transfer is handing leadership to, while it catches up. */
  readonly transferTarget: NodeId | null
  /** Fenced (`setFenced`): it leads nothing and starts no campaign until unfenced. */
  readonly fenced: boolean
  /** Damaged (`logDamaged`): no vote, no campaign until the log end reaches this again; null: not damaged. */
  readonly damagedUntil: number | null
  /** Part of the log was never CRC-checked since it was opened: checked before a campaign. */
  readonly logUnverified: boolean
  /** Leader: what it has heard from each other replica (voters and observers) this epoch; null otherwise. */
  readonly progress: readonly ReplicaProgress[] | null
}

/** A leader's view of one other replica, from its fetches in this epoch. */
export interface ReplicaProgress {
  readonly id: NodeId
  /** The directory id its fetches carried (undefined: none, or it has not fetched). */
  readonly directoryId: DirectoryId | undefined
  readonly voter: boolean
  /** Where its last fetch asked to read from (its log end); -1: it has not fetched this epoch. */
  readonly fetchOffset: number
  /** Ticks since its last fetch; -1: it has not fetched this epoch. */
  readonly ticksSinceFetch: number
  /** What it had flushed at its last fetch (counts for the HW if a voter); -1: it has not fetched this epoch. */
  readonly flushedOffset: number
  /**
   * Ticks since its flushed offset last reached the leader's log end (ISR: in sync while this is
   * within replica.lag.time.max.ms). A voter counts as caught up at the election (Kafka's grace for
   * a new leader); -1: never this epoch (an observer that has not caught up).
   */
  readonly ticksSinceCaughtUp: number
}
