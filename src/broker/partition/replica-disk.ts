// What a partition replica keeps on disk and how it opens from it: the partition log, the
// quorum state (quorum-state.json: epoch, vote, leader) and the voter sets (voter-sets.ts),
// from which it builds a Raft core; for a state-machine log also the latest snapshot, loaded into
// the state machine (state-machine-log.ts). Used at start and whenever the replica reopens
// after a failure, so that the core always starts from what storage holds.
import { basename, dirname, join, resolve } from 'node:path'
import type { Codec } from '../../codec/index.js'
import { RaftCore } from '../../raft/core.js'
import { FETCH_MAX_BYTES_DEFAULT } from '../../raft/limits.js'
import type { QuorumState, VoterSetAt } from '../../raft/types.js'
import { NodeFileLayer, PartitionLog, readSmallFile, writeFileAtomic, type FileLayer } from '../../storage/index.js'
import type { ReplicaOptions } from './replica.js'
import { loadRepairEnd } from './log-damage.js'
import { StateMachineLog } from './state-machine-log.js'
import { fitToLog, loadVoterSets, sameSets, saveVoterSets, voterSet } from './voter-sets.js'

export const QUORUM_STATE_FILE = 'quorum-state.json'

/** What an open replica works on; replaced whole when it reopens. */
export interface Opened {
  readonly log: PartitionLog
  readonly core: RaftCore
  /** The voter set at the log start and each voter record in the log, as on disk. */
  voterSets: VoterSetAt[]
  /** A state-machine log's state machine and snapshots (null: a data partition). */
  readonly sm: StateMachineLog | null
}

const defaultFs = new NodeFileLayer()

export function filesOf(options: ReplicaOptions): FileLayer {
  return options.fs ?? defaultFs
}

/**
 * Written atomically before anything of its Ready leaves: into the broker's shared store (one
 * group commit for every partition writing in the same turn: quorum-state-store.ts) when the
 * replica has one, else into the partition's own quorum-state.json (temp, fsync, rename, directory fsync).
 */
export function saveQuorumState(options: ReplicaOptions, state: QuorumState): Promise<void> {
  if (options.quorumStates !== undefined) return options.quorumStates.save(storeKey(options), state)
  return writeFileAtomic(filesOf(options), join(options.dir, QUORUM_STATE_FILE), new TextEncoder().encode(JSON.stringify(state)))
}

/** The quorum state on disk: the shared store's entry, else (a partition of an older release, or no store) the partition's own file. */
function loadQuorumState(options: ReplicaOptions, fs: FileLayer): QuorumState | null {
  const stored = options.quorumStates?.get(storeKey(options))
  if (stored !== undefined) return stored
  const saved = readSmallFile(fs, join(options.dir, QUORUM_STATE_FILE))
  return saved === null ? null : (JSON.parse(new TextDecoder().decode(saved)) as QuorumState)
}

/** A partition's key in the store: its directory's name (the store lives in the directory above). */
function storeKey(options: ReplicaOptions): string {
  // Resolved: `--data-dir ./data` names the store's directory "./data" and a partition's "data/…".
  if (options.quorumStates !== undefined && resolve(options.quorumStates.dir) !== resolve(dirname(options.dir))) {
    throw new Error(`${options.dir} is not in the quorum-state store's directory ${options.quorumStates.dir}`) // a wiring bug
  }
  return basename(options.dir)
}

/** A data partition's damage state for the core (log-damage.ts); the metadata log has none. */
function damageView(options: ReplicaOptions, log: PartitionLog, fs: FileLayer): { unverified: boolean; damagedUntil: number | null } {
  if (options.stateMachine !== undefined || options.verifyLogs === false) return { unverified: false, damagedUntil: null }
  return { unverified: !log.fullyVerified, damagedUntil: loadRepairEnd(fs, options.dir) }
}

/** Opens the log and what lies beside it, and builds a core from them. */
export async function openFromDisk(options: ReplicaOptions, codec: Codec): Promise<Opened> {
  const fs = filesOf(options)
  await fs.mkdirp(options.dir)
  const log = await PartitionLog.open({ dir: options.dir, config: options.logConfig, fs, codec, timers: options.timers })
  try {
    const crc = (b: Uint8Array) => codec.crc32c(b)
    const opened = options.stateMachine === undefined ? null : await StateMachineLog.open(log, fs, options.dir, codec, options.stateMachine)
    const snapshot = opened?.snapshot ?? null
    const quorum = loadQuorumState(options, fs)
    // A new partition's voters come from config, once; then from the file.
    const loaded = loadVoterSets(fs, options.dir, crc)
    const initial = loaded ?? [{ offset: log.logStartOffset - 1, voters: [...options.voters] }]
    let voterSets = fitToLog(initial, log.logStartOffset, log.logEndOffset)
    if (voterSets.length === 0) voterSets = [{ offset: log.logStartOffset - 1, voters: [...options.voters] }]
    // The snapshot names the set at its end; the file may still describe a log it replaced. The
    // snapshot holds voter ids only: their directory ids come from the file when it names that set.
    if (snapshot !== null) {
      const end = snapshot.endOffset
      const filed = [...voterSets].reverse().find((s) => s.offset < end)
      const dirs = filed !== undefined && filed.voters.join() === [...snapshot.voters].sort((a, b) => a - b).join() ? filed.directoryIds : undefined
      voterSets = [voterSet(end - 1, snapshot.voters, dirs), ...voterSets.filter((s) => s.offset >= end)]
    }
    if (loaded === null || !sameSets(loaded, voterSets)) await saveVoterSets(fs, options.dir, voterSets, crc)
    // The broker passes every timing (raft-timing.ts); these compact ratios serve tests that give one.
    const e = options.electionTimeoutTicks
    const core = new RaftCore(
      {
        id: options.nodeId,
        directoryId: options.directoryId,
        voters: voterSets[0].voters,
        electionTimeoutTicks: e,
        fetchTimeoutTicks: e,
        fetchMaxWaitTicks: Math.max(1, Math.floor(e / 4)),
        fetchRetryTicks: Math.max(2, Math.floor(e / 2)),
        beginQuorumRetryTicks: Math.max(1, Math.floor(e / 2)),
        fetchMaxBytes: FETCH_MAX_BYTES_DEFAULT,
        random: options.random,
        ...options.raft,
      },
      quorum,
      {
        logStart: log.logStartOffset,
        logEnd: log.logEndOffset,
        flushedEnd: log.flushedOffset,
        epochs: log.epochEntries(),
        logStartEpoch: log.logStartEpoch,
        voterSets,
        snapshot: snapshot === null ? null : { endOffset: snapshot.endOffset, epoch: snapshot.epoch, sizeBytes: snapshot.sizeBytes },
        ...damageView(options, log, fs),
      },
    )
    return { log, core, voterSets, sm: opened?.sm ?? null }
  } catch (err) {
    await log.close().catch(() => undefined)
    throw err
  }
}
