// Carries out the core's directives against the partition log: appends (a new leader's
// LeaderChange, a voter record, a leader's bytes on a follower), reads for fetch answers,
// truncation and the reset of a follower behind the leader's log start; the snapshot directives
// go to the state-machine log (state-machine-log.ts), which data partitions lack. Whatever the core
// assumed and the log did not do (a truncation that ended elsewhere, a reset that did not land)
// throws: the replica then reopens from disk.
import type { Codec } from '../../codec/index.js'
import type { AppendedRange, Directive, EpochStart, NodeId, VoterDirectories, VoterSetAt } from '../../raft/types.js'
import type { PartitionLog, Timers } from '../../storage/index.js'
import { leaderChangeBatch, voterRecordsIn, votersBatch } from './control-records.js'
import { PEER_RECORDS_HEADROOM_BYTES } from './limits.js'
import { withRoomBefore } from './read-buffers.js'
import type { Opened } from './replica-disk.js'
import type { ReplicaObserver } from './replica.js'
import type { StateMachineLog } from './state-machine-log.js'
import { fitToLog, voterSet, withRecord } from './voter-sets.js'

/** An append a directive made, to report to the core after advance(). */
export interface Append {
  logEnd: number
  range: AppendedRange
}

export interface DirectiveContext {
  readonly codec: Codec
  readonly nodeId: NodeId
  readonly timers: Timers
  readonly observer?: ReplicaObserver
  /** Writes the voter sets beside the log (if they changed) and keeps them as `o`'s. */
  saveVoterSets(o: Opened, sets: VoterSetAt[]): Promise<void>
}

export async function executeDirective(ctx: DirectiveContext, o: Opened, d: Directive): Promise<Append | null> {
  const log = o.log
  switch (d.kind) {
    case 'appendLeaderChange': {
      const bytes = leaderChangeBatch(ctx.codec, d.epoch, ctx.nodeId, d.voters, ctx.timers.now())
      const info = await log.appendAsLeader(bytes, d.epoch)
      ctx.observer?.appended?.(bytes, info)
      return { logEnd: info.nextOffset, range: { epochStarts: [{ epoch: d.epoch, startOffset: info.firstOffset }] } }
    }
    case 'appendVoters': {
      const offset = log.logEndOffset
      // The entry first: a record on disk must never lack it (voter-sets.ts).
      await ctx.saveVoterSets(o, withRecord(o.voterSets, offset, d.voters, d.directoryIds))
      const bytes = votersBatch(ctx.codec, d.epoch, d.voters, d.directoryIds, ctx.timers.now())
      const info = await log.appendAsLeader(bytes, d.epoch)
      ctx.observer?.appended?.(bytes, info)
      return { logEnd: info.nextOffset, range: { epochStarts: epochStartsFrom(log, offset), voterSets: [voterSet(offset, d.voters, d.directoryIds)] } }
    }
    case 'appendFetched': {
      const before = log.logEndOffset
      if (d.fromOffset !== before) throw new Error(`the core appends at ${d.fromOffset}, the log ends at ${before}`)
      const bytes = d.records as Uint8Array
      const voterSets = voterRecordsIn(ctx.codec, bytes)
      if (voterSets.length > 0) await ctx.saveVoterSets(o, [...o.voterSets, ...voterSets])
      // A compacted leader's log has offset gaps: its batches may start past our end.
      const info = await log.appendAsFollower(bytes, { allowGap: true })
      ctx.observer?.appended?.(bytes, info)
      return { logEnd: info.nextOffset, range: { epochStarts: epochStartsFrom(log, before), voterSets } }
    }
    case 'attachRecords': {
      // An empty read (a compaction gap up to the log end) is no records, not an empty batch list.
      const { bytes } = await log.read(d.fromOffset, d.maxBytes, { headroomBytes: PEER_RECORDS_HEADROOM_BYTES })
      d.response.records = bytes.length === 0 ? null : withRoomBefore(bytes, PEER_RECORDS_HEADROOM_BYTES)
      return null
    }
    case 'truncate': {
      ctx.observer?.truncating?.(d.offset)
      await log.truncateTo(d.offset)
      ctx.observer?.truncated?.(log.logEndOffset)
      // A batch straddling the offset goes whole: the core would count offsets the log lacks.
      if (log.logEndOffset !== d.offset) throw new Error(`truncation to ${d.offset} ended the log at ${log.logEndOffset} (a batch straddled it)`)
      await ctx.saveVoterSets(o, fitToLog(o.voterSets, log.logStartOffset, log.logEndOffset))
      return null
    }
    case 'resetLog':
      await resetLog(ctx, o, d.logStart, d.logStartEpoch, d.voters, d.directoryIds)
      return null
    case 'attachSnapshotChunk':
      d.response.chunk = stateMachineLog(o, d.kind).readChunk(d.snapshotId, d.position, d.length)
      return null
    case 'writeSnapshotChunk':
      stateMachineLog(o, d.kind).writeChunk(d)
      return null
    case 'installSnapshot':
      await stateMachineLog(o, d.kind).install(ctx, o, d)
      return null
    case 'verifyLog':
      throw new Error('verifyLog is carried out by the replica (replica.ts), not here')
  }
}

function stateMachineLog(o: Opened, kind: string): StateMachineLog {
  if (o.sm === null) throw new Error(`data partitions have no snapshots (${kind})`)
  return o.sm
}

/**
 * A follower behind the leader's log start starts over there, with the epoch and voter set
 * in force at that start. Each step leaves a state a crash may stop in: the log emptied where
 * it stands, then the new set written beside the old one (its entry lies past the empty log's
 * end until the reset lands), then the log reset to its new start.
 */
export async function resetLog(
  ctx: DirectiveContext, o: Opened, logStart: number, logStartEpoch: number, voters: readonly NodeId[], directoryIds: VoterDirectories | undefined,
): Promise<void> {
  const log = o.log
  ctx.observer?.resetting?.(logStart)
  if (log.logEndOffset > log.logStartOffset) await log.truncateTo(log.logStartOffset)
  const emptied = fitToLog(o.voterSets, log.logStartOffset, log.logEndOffset)
  const base = emptied[emptied.length - 1]
  const entry = voterSet(logStart - 1, voters, directoryIds)
  await ctx.saveVoterSets(o, base !== undefined && base.offset < entry.offset ? [...emptied, entry] : [entry])
  await log.truncateFullyAndStartAt(logStart, logStartEpoch)
  o.voterSets = [entry]
  if (log.logStartOffset !== logStart || log.logEndOffset !== logStart) throw new Error(`reset to ${logStart} left the log at [${log.logStartOffset}, ${log.logEndOffset})`)
  ctx.observer?.reset?.(logStart, logStartEpoch, voters)
}

/** Epochs the log's cache started at or after `from` (those an append just opened). */
function epochStartsFrom(log: PartitionLog, from: number): EpochStart[] {
  return log.epochEntries().filter((e) => e.startOffset >= from).map((e) => ({ epoch: e.epoch, startOffset: e.startOffset }))
}
