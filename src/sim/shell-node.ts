// One simulated broker process running the real replica shell (broker/partition/replica.ts) on
// the simulated file layer (power cuts with torn tails, slow and failing fsyncs) and virtual
// time. The simulator follows the real log in a shadow SimLog of chain hashes, kept in step
// through the shell's observer and compared with the log whenever the replica is idle; the
// checker reads it exactly as it reads the stand-in shell's log. In the state-machine log mode
// each process also runs a key-value state machine (kv-state-machine.ts) that the shell drives.
import { readBatchHeader, splitBatches, type Codec } from '../codec/index.js'
import type { Logger } from '../broker/log.js'
import { CONTROL_LEADER_CHANGE, CONTROL_VOTERS, controlType, parseVoterRecord } from '../broker/partition/control-records.js'
import { PartitionReplica, type ReplicaOptions } from '../broker/partition/replica.js'
import type { SnapshotPolicy, StateMachine } from '../broker/partition/state-machine.js'
import { assert } from '../raft/assert.js'
import type { Message, NodeId, SnapshotId, Status, VoteRequest, VoteResponse, VoterDirectories } from '../raft/types.js'
import { SimFileLayer, type AppendInfo, type LogConfig } from '../storage/index.js'
import type { Checker, CheckedNode } from './checker.js'
import { KvStateMachine } from './kv-state-machine.js'
import type { Prng } from './prng.js'
import { SimLog, votersPayload } from './sim-log.js'
import type { VirtualProcess, VirtualTime } from './virtual-time.js'

export interface ShellNodeConfig {
  readonly bootstrapVoters: readonly NodeId[]
  readonly logConfig: LogConfig
  readonly electionTimeoutTicks: number
  readonly raft: ReplicaOptions['raft']
  /** Chance an fsync is slow, and how slow it may be (virtual ms); others take 0–2 ms. */
  readonly slowFsyncRate: number
  readonly slowFsyncMaxMs: number
  /** A state-machine log (snapshots on this policy) instead of a data partition. */
  readonly snapshotPolicy?: SnapshotPolicy
  /** A state machine that ignores restores (shows the state check has teeth). */
  readonly machineBug?: 'ignoreRestore'
  /** The metadata mode's state machine for each process start, instead of the key-value one. */
  readonly createMachine?: (log: Logger) => StateMachine
  /** Give the replica a directory id (d<id>.<wipes>): KIP-853's replica keys, and disks that can be wiped. */
  readonly directoryIds?: boolean
}

export interface ShellHooks {
  readonly checker: Checker
  send(m: Message): void
  log(line: string): void
  /** Counts an event for the run's statistics. */
  counted(what: 'reopens' | 'logResets' | 'snapshotsTaken' | 'snapshotsInstalled'): void
  /** Whether an fsync should fail now (an I/O error: the shell must reopen). */
  fsyncFails(): boolean
}

/** What a leader's outOfRange answer stands for: the chain hash of its prefix below its log start. */
const outOfRangeChains = new WeakMap<Message, number>()

/**
 * What each snapshot of a run stands for: the chain hash of the prefix below its end, by its
 * identity (endOffset, epoch), which by log matching names one prefix. Set where it is taken
 * (and checked there to be the committed prefix); a follower that installs it starts its
 * shadow log there.
 */
export class SnapshotChains {
  private readonly chains = new Map<string, number>()

  set(id: SnapshotId, chain: number): void {
    const key = `${id.endOffset}:${id.epoch}`
    const prior = this.chains.get(key)
    assert(prior === undefined || prior === chain, `two snapshots ${key} of different prefixes`)
    this.chains.set(key, chain)
  }

  get(id: SnapshotId): number | undefined {
    return this.chains.get(`${id.endOffset}:${id.epoch}`)
  }
}

/** What is known of the prefix below a log start: its last record's epoch, chain hash and voter set. */
interface Base {
  readonly epoch: number
  readonly chain: number
  readonly voters: readonly NodeId[] | null
}

/** One record of an appended batch, as the shadow log keeps it. */
interface Appended {
  readonly offset: number
  readonly epoch: number
  readonly payload: number
  readonly voters?: readonly NodeId[]
  readonly directoryIds?: VoterDirectories
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A client record's value: its payload id. */
export function payloadValue(payload: number): Uint8Array {
  return encoder.encode(String(payload))
}

/**
 * The records of concatenated batches, with the payload ids the stand-in shell would give them:
 * a client record's value, or its key where it has one (the metadata mode's records hold a
 * MetadataRecord as their value and their payload id as their key).
 */
export function recordsIn(codec: Codec, bytes: Uint8Array): Appended[] {
  const out: Appended[] = []
  for (const [start, end] of splitBatches(bytes)) {
    const h = readBatchHeader(bytes, start)
    for (const r of codec.decodeBatch(bytes.subarray(start, end), { contiguous: false }).records) {
      if (!h.control) {
        out.push({ offset: r.offset, epoch: h.partitionLeaderEpoch, payload: Number(decoder.decode(r.key ?? r.value!)) })
        continue
      }
      const type = controlType(r.key)
      if (type === CONTROL_VOTERS) {
        const { voters, directoryIds } = parseVoterRecord(r.value)
        out.push({ offset: r.offset, epoch: h.partitionLeaderEpoch, payload: votersPayload(voters), voters, ...(directoryIds === undefined ? {} : { directoryIds }) })
      } else {
        assert(type === CONTROL_LEADER_CHANGE, `unexpected control record type ${type}`)
        out.push({ offset: r.offset, epoch: h.partitionLeaderEpoch, payload: -h.partitionLeaderEpoch })
      }
    }
  }
  return out
}

export class ShellNode implements CheckedNode {
  replica: PartitionReplica | null = null
  /** The log as the simulator follows it. */
  log = new SimLog()
  incarnation = 0
  /** Fractional ticks owed (clock drift: a fast clock accrues more than one per step). */
  tickDebt = 0
  tickRate = 1
  /** A safety violation seen inside a replica callback, rethrown by the simulation after the step. */
  violation: Error | null = null
  /** State-machine log mode: the running process's state machine (null while down). */
  machine: StateMachine | null = null
  /** The broker's fence (its lease expired): kept across restarts, given to every replica it opens. */
  fenced = false
  /** Times the disk was wiped: each wipe gives the node a new directory id. */
  wipes = 0
  private disk: SimFileLayer
  private process: VirtualProcess | null = null
  private starting = false
  /** The shadow must be read again from the log (after a restart or a reopen). */
  private stale = true
  /** Bumped by every observer event: a reread during which it moved saw a log in motion. */
  private generation = 0
  /** Bases of every log start this node has had (a crash may bring an older one back). */
  private readonly bases = new Map<number, Base>([[-1, { epoch: 0, chain: 0, voters: null }]])
  /** The outOfRange answers delivered here, by log start: what a reset to it starts from. */
  private readonly resets = new Map<number, Base>()
  /** A reset under way (a failure or crash may stop it after it reached the disk). */
  private resetTarget: number | null = null
  /** Vote requests delivered here, to check what this node granted. */
  private readonly voteRequests = new Map<string, VoteRequest>()
  private readonly logger: Logger

  constructor(
    readonly id: NodeId,
    private readonly config: ShellNodeConfig,
    private readonly rng: Prng,
    private readonly time: VirtualTime,
    private readonly codec: Codec,
    private readonly hooks: ShellHooks,
    private readonly snapshotChains = new SnapshotChains(),
  ) {
    this.disk = this.emptyDisk()
    const line = (level: string) => (msg: string, fields?: Record<string, unknown>) => this.hooks.log(`n${id} ${level} ${msg} ${JSON.stringify(fields ?? {})}`)
    this.logger = { info: line('info'), warn: line('warn'), error: line('error') }
  }

  get up(): boolean {
    return this.replica !== null
  }

  /** This replica's directory id, if the simulation gives them (a new one after each wipe). */
  get directoryId(): string | undefined {
    return this.config.directoryIds === true ? `d${this.id}.${this.wipes}` : undefined
  }

  /**
   * The disk is wiped (the node is down): a new, empty disk, so the node starts as a new replica
   * with a new directory id (KIP-853). The shadow starts empty too.
   */
  wipe(): void {
    assert(this.replica === null && !this.starting, 'wipe of a running node')
    this.disk = this.emptyDisk()
    this.log = new SimLog()
    this.bases.clear()
    this.bases.set(-1, { epoch: 0, chain: 0, voters: null })
    this.resets.clear()
    this.resetTarget = null
    this.voteRequests.clear()
    this.stale = true
    this.generation++
    this.wipes++
  }

  private emptyDisk(): SimFileLayer {
    const disk = new SimFileLayer({ syncDelay: () => this.fsyncDelay() })
    disk.failSync = () => this.hooks.fsyncFails()
    return disk
  }

  get busy(): boolean {
    return this.starting
  }

  /** Running, idle, and its shadow in step with its log. */
  get settled(): boolean {
    const r = this.replica
    return r !== null && r.online && r.idle && !this.stale
  }

  status(): Status {
    return this.replica!.status()
  }

  /** Opens the replica from this node's disk (a process start); it is up once that resolves. */
  start(): void {
    assert(this.replica === null && !this.starting, 'start of a running node')
    const process = this.time.process()
    this.process = process
    this.starting = true
    this.stale = true
    this.generation++
    const machine = this.config.snapshotPolicy === undefined ? null : this.config.createMachine?.(this.logger) ?? new KvStateMachine(this.id, this.config.machineBug)
    const options: ReplicaOptions = {
      dir: '/data/p0',
      nodeId: this.id,
      directoryId: this.directoryId,
      voters: this.config.bootstrapVoters,
      logConfig: this.config.logConfig,
      electionTimeoutTicks: this.config.electionTimeoutTicks,
      send: (m) => this.onSend(m),
      random: (bound) => this.rng.int(bound),
      fs: this.disk.session(),
      timers: process.timers,
      logger: this.logger,
      raft: this.config.raft,
      fenced: this.fenced,
      // The simulator flips no byte at rest yet: with nothing to find, the scrub and the check
      // before a campaign (log-damage.ts) stay off, so seeds replay exactly as before them.
      verifyLogs: false,
      observer: {
        appended: (bytes, info) => this.guard(() => this.onAppended(bytes, info)),
        truncating: (offset) => this.guard(() => this.hooks.checker.truncating(this, offset)),
        truncated: (logEnd) => this.guard(() => {
          if (!this.stale) this.log.truncate(logEnd)
        }),
        resetting: (logStart) => {
          this.generation++
          this.resetTarget = logStart
        },
        reset: (logStart, epoch, voters) => this.guard(() => this.onReset(logStart, epoch, voters)),
        reopened: (why) => {
          this.generation++
          this.incarnation++
          this.stale = true
          this.hooks.counted('reopens')
          this.hooks.log(`n${this.id} REOPENED (${why})`)
          // As at a start (below); here the replica's task goes on meanwhile, which the read detects.
          // A reopen while the replica is still opening (its first input failed) is read once it is.
          if (machine !== null && this.replica !== null) this.rereadSoon()
        },
        snapshotting: (snapshot, voters) => this.guard(() => this.onSnapshotting(snapshot, voters)),
        snapshotInstalled: (snapshot) => {
          this.hooks.counted('snapshotsInstalled')
          this.hooks.log(`n${this.id} installed snapshot ${snapshot.endOffset}:${snapshot.epoch} (${snapshot.sizeBytes} bytes)`)
        },
      },
      ...(machine === null ? {} : { stateMachine: { machine, snapshotPolicy: this.config.snapshotPolicy } }),
    }
    void this.disk.mkdirp('/data').then(() => PartitionReplica.open(options)).then(
      (replica) => {
        this.starting = false
        if (this.process !== process) return replica.abandon() // crashed while opening
        this.replica = replica
        this.machine = machine
        this.incarnation++
        if (this.fenced !== options.fenced) void replica.setFenced(this.fenced) // changed while it opened
        // A state-machine log may commit and snapshot in the very step it comes up (a lone
        // voter does), and a snapshot needs the shadow: read it now. Nothing else runs until
        // this chain of microtasks ends (the replica's pending work waits on virtual timers),
        // so the log holds still meanwhile. (Data partitions read it at the step's end, as before.)
        // A replica that failed again while opening is offline: its log is closed, nothing to read.
        if (machine !== null && replica.online) this.rereadSoon()
      },
      (err: unknown) => {
        this.starting = false
        this.hooks.log(`n${this.id} failed to start: ${(err as Error).message}`)
      },
    )
  }

  /** Power cut: the process dies, unsynced bytes are lost or torn. */
  crash(): void {
    this.replica?.abandon()
    this.replica = null
    this.machine = null
    this.generation++
    this.process?.kill()
    this.process = null
    this.starting = false
    this.disk.powerCut({ random: () => this.rng.next() / 0x100000000, scramble: this.rng.chance(0.3) })
  }

  deliver(m: Message): void {
    const r = this.replica
    if (r === null) return
    if (m.type === 'fetchResponse' && m.kind === 'outOfRange') {
      const chain = outOfRangeChains.get(m)
      if (chain !== undefined) this.resets.set(m.logStart, { epoch: m.logStartEpoch, chain, voters: m.voters })
    }
    if (m.type === 'fetchResponse' && m.kind === 'snapshot') {
      // Installing it resets the log to its end, on the prefix it was taken from.
      const chain = this.snapshotChains.get(m.snapshot)
      if (chain !== undefined) this.resets.set(m.snapshot.endOffset, { epoch: m.snapshot.epoch, chain, voters: m.voters })
    }
    if (m.type === 'vote') this.voteRequests.set(`${m.from}:${m.epoch}:${m.preVote}`, m)
    void r.receive(m)
  }

  tick(): void {
    void this.replica?.tick()
  }

  /** Leads its group (the link drops aim flaps at leaders first). */
  get leading(): boolean {
    return this.replica?.isLeader === true
  }

  /** The transport says the link to `peer` closed (link-drops.ts): a queued input, as a peer transport's notice is. */
  linkDown(peer: number): void {
    void this.replica?.leaderUnreachable(peer)
  }

  /** Fences or unfences the broker: its replica now (a queued input), and every one it opens later. */
  setFenced(fenced: boolean): void {
    this.fenced = fenced
    void this.replica?.setFenced(fenced)
  }

  /**
   * Brings the shadow in step with the log once the replica is idle (read again after a restart
   * or reopen; the log start moved by retention), and checks that they agree.
   */
  async sync(): Promise<void> {
    const r = this.replica
    // What the log has flushed is on disk, busy or not, and while the replica reopens (then the
    // failed log still tells): the commit-quorum check counts it.
    if (r !== null) this.log.durableEnd = r.log.flushedOffset
    if (r === null || !r.online || !r.idle) return
    const log = r.log
    if (this.stale && !(await this.reread())) return
    if (log.logStartOffset > this.log.start) {
      this.hooks.checker.catchUp(this, log.logStartOffset)
      this.log.advanceStart(log.logStartOffset)
      this.bases.set(this.log.start - 1, { epoch: this.log.baseEpoch, chain: this.log.baseChain, voters: this.log.baseVoters })
    }
    this.log.durableEnd = log.flushedOffset
    if (this.log.start !== log.logStartOffset || this.log.end !== log.logEndOffset) {
      throw new Error(`simulator: node ${this.id} shadow [${this.log.start}, ${this.log.end}) != log [${log.logStartOffset}, ${log.logEndOffset})`)
    }
  }

  /** Reads the shadow again now, not at the step's end; a failure is reported after the step. */
  private rereadSoon(): void {
    this.reread().catch((err: unknown) => {
      this.violation ??= err as Error
    })
  }

  /** Runs a checker callback inside a replica callback: a violation must not look like a disk error to the shell. */
  private guard(fn: () => void): void {
    this.generation++
    try {
      fn()
    } catch (err) {
      this.violation ??= err as Error
    }
  }

  private onSend(m: Message): void {
    if (this.replica !== null && this.replica.online) {
      try {
        this.hooks.checker.sent(this, m) // no guard(): a send leaves the log as it was
      } catch (err) {
        this.violation ??= err as Error
      }
    }
    if (m.type === 'fetchResponse' && m.kind === 'outOfRange' && !this.stale) {
      const chain = this.log.chainAt(m.logStart - 1)
      if (chain !== undefined) outOfRangeChains.set(m, chain)
    }
    if (m.type === 'voteResponse' && m.granted) this.guard(() => this.checkVote(m))
    this.hooks.send(m)
  }

  /** Election restriction and vote uniqueness, against the log this node had when it granted. */
  private checkVote(m: VoteResponse): void {
    const req = this.voteRequests.get(`${m.to}:${m.epoch}:${m.preVote}`)
    assert(req !== undefined, `node ${this.id} granted a vote nobody asked for`)
    const s = this.replica!.status() // a vote changes no log: this is the log it decided on
    this.hooks.checker.voteGranted(this.id, req, s.lastEpoch, s.logEnd, this.directoryId)
  }

  private onAppended(bytes: Uint8Array, info: AppendInfo): void {
    if (this.stale) return
    const records = recordsIn(this.codec, bytes)
    assert(records.length > 0 && records[0].offset === info.firstOffset, 'appended records do not start where the log says')
    for (const r of records) {
      assert(r.offset === this.log.end, `node ${this.id} appended offset ${r.offset} at log end ${this.log.end} (a gap)`)
      const e = this.log.appendLocal(r.epoch, r.payload, r.voters, r.directoryIds)
      this.hooks.checker.appendedEntry(this.id, e, this.log)
    }
  }

  /**
   * A snapshot about to be written here: it must hold the committed prefix below its end. Its
   * prefix is the shadow's, or — a shadow not yet read again after a restart — the one every log
   * that holds its last entry (same offset and epoch) has; the check that it is committed then
   * waits for the checker to learn that (the node's state is compared with it anyway).
   */
  private onSnapshotting(s: SnapshotId, voters: readonly NodeId[]): void {
    this.hooks.counted('snapshotsTaken')
    const checker = this.hooks.checker
    if (!this.stale) checker.catchUp(this, s.endOffset) // its HW may have passed the end this step
    const chain = this.stale ? checker.chainOf(s.endOffset - 1, s.epoch) : this.log.chainAt(s.endOffset - 1)
    assert(chain !== undefined, `node ${this.id} snapshots ${s.endOffset}:${s.epoch}, a prefix no log was seen to hold`)
    if (!this.stale || checker.committed(s.endOffset - 1) !== undefined) checker.snapshot(this.id, { ...s, chain, sizeBytes: 0 }, 'taken')
    this.snapshotChains.set(s, chain)
    this.bases.set(s.endOffset - 1, { epoch: s.epoch, chain, voters })
    this.hooks.log(`n${this.id} snapshots ${s.endOffset}:${s.epoch}`)
  }

  private onReset(logStart: number, epoch: number, voters: readonly NodeId[]): void {
    this.resetTarget = null
    const chain = this.resets.get(logStart)?.chain
    assert(chain !== undefined, `node ${this.id} reset to ${logStart} without the outOfRange answer that asked for it`)
    this.hooks.counted('logResets')
    this.hooks.log(`n${this.id} reset: log starts over at ${logStart} (epoch ${epoch} below it)`)
    this.hooks.checker.reset(this.id, logStart, epoch, chain)
    this.bases.set(logStart - 1, { epoch, chain, voters })
    this.log.reset(logStart, epoch, chain, voters, undefined)
  }

  /**
   * Reads the whole log again (after a restart or reopen), from the base known for its start.
   * Returns false, and the shadow stays stale, if the log changed while it was being read (an
   * observer event came meanwhile: only possible for a read started inside a replica's task).
   */
  private async reread(): Promise<boolean> {
    const generation = this.generation
    const log = this.replica!.log
    const start = log.logStartOffset
    // A reset that reached the disk but did not finish (a failure, then a reopen, or a crash):
    // the log starts on the leader's prefix, whatever this log held below it before.
    const resumed = this.resetTarget === start
    const base = resumed ? this.resets.get(start) : this.baseAt(start)
    assert(base !== undefined, resumed
      ? `node ${this.id} reset to ${start} without the outOfRange answer that asked for it`
      : `node ${this.id} reopened with a log start ${start} the simulator never saw`)
    const fresh = new SimLog()
    fresh.start = fresh.durableEnd = start
    fresh.baseEpoch = base.epoch
    fresh.baseChain = base.chain
    fresh.baseVoters = base.voters
    try {
      for (let from = start; from < log.logEndOffset;) {
        const { bytes, nextOffset } = await log.read(from, 1 << 20)
        assert(bytes.length > 0, 'an empty read inside the log')
        for (const r of recordsIn(this.codec, bytes)) {
          assert(r.offset === fresh.end, `node ${this.id} holds a gap at ${fresh.end}`)
          this.hooks.checker.appendedEntry(this.id, fresh.appendLocal(r.epoch, r.payload, r.voters, r.directoryIds), fresh)
        }
        from = nextOffset
      }
    } catch (err) {
      if (this.generation !== generation) return false
      throw err
    }
    if (this.generation !== generation) return false
    if (resumed) {
      this.hooks.checker.reset(this.id, start, log.logStartEpoch, base.chain)
      this.bases.set(start - 1, base)
    }
    this.resetTarget = null
    this.log = fresh
    this.stale = false
    return true
  }

  private baseAt(start: number): Base | undefined {
    const l = this.log
    if (start - 1 >= l.start - 1 && start - 1 < l.end) {
      return { epoch: start === l.start ? l.baseEpoch : l.entryAt(start - 1).epoch, chain: l.chainAt(start - 1)!, voters: l.votersAt(start - 1) }
    }
    return this.bases.get(start - 1)
  }

  private fsyncDelay(): Promise<void> {
    const process = this.process
    if (process === null) return new Promise(() => undefined) // a dead process's fsync never returns
    const ms = this.rng.chance(this.config.slowFsyncRate) ? this.rng.int(this.config.slowFsyncMaxMs + 1) : this.rng.int(3)
    return this.time.sleep(process, ms)
  }
}
