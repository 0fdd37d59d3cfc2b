// The simulator's second mode: one seeded run of the real replica shell. Each node is a
// PartitionReplica — the broker's own shell, storage engine and control records — on a simulated
// disk (power cuts with torn tails, slow fsyncs, fsyncs that fail and make the shell reopen from
// disk) and virtual time, wired through the simulated network (loss, delay, reordering,
// duplication, partitions). Clients produce batches of 1–3 records and wait for acks=all; the
// broker's cleaner applies retention on random replicas; operators change voters and transfer
// leadership. The checker of the stand-in mode runs after every step, and every acknowledged
// write must turn out committed. Then a liveness phase heals everything and demands a commit.
//
// With `stateMachine` the log is a state-machine log instead (the metadata log's shape): no
// retention; each process runs a key-value state machine the shell drives, snapshots on a small
// policy, and followers behind a leader's snapshot install it (sometimes an observer joins late,
// with an empty disk). After every step each idle node's state must equal the fold of the
// committed prefix up to what it applied; after healing, every node must apply the probe and
// hold exactly the committed state. With `stateMachine: 'metadata'` that state machine is the
// broker's metadata image, written by the active controller's real decisions (metadata-mode.ts).
import { loadCodec, type Codec } from '../codec/index.js'
import { FETCH_MAX_BYTES_DEFAULT } from '../raft/limits.js'
import type { Message } from '../raft/types.js'
import type { SnapshotPolicy } from '../broker/partition/state-machine.js'
import { resolveConfig } from '../storage/index.js'
import { Checker, isLostVoter, SafetyViolation } from './checker.js'
import { ALL_FENCED_STEPS, Fencing, type FenceParams } from './fencing.js'
import { LinkDrops, type LinkDropParams } from './link-drops.js'
import { settle } from './event-loop.js'
import { formatLog, formatMessage } from './format.js'
import { CLIENT_ACK_TIMEOUT_MS, CLIENT_UNCOMMITTED_MAX, SETTLE_ROUNDS_MAX, TRACE_LINES_MAX } from './limits.js'
import { CommittedKvStates, describeKvState, sameKvState, type KvStateMachine } from './kv-state-machine.js'
import type { MetadataBug } from './metadata-machine.js'
import { MetadataMode, type MetadataModeStats } from './metadata-mode.js'
import { Prng } from './prng.js'
import { drawFaultRates, type FaultRates } from './fault-rates.js'
import { payloadValue, ShellNode, SnapshotChains, type ShellNodeConfig } from './shell-node.js'
import { SimNetwork, type PartitionKind } from './sim-network.js'
import { LIVENESS_STEPS_BASE, LIVENESS_STEPS_PER_LAG_OFFSET, type SimOptions } from './simulation.js'
import { VirtualTime } from './virtual-time.js'
import { Wipes } from './wipes.js'

/** Steps of the fault-injecting safety phase (fewer than the stand-in's: a step costs more here). */
export const SHELL_SAFETY_STEPS_DEFAULT = 500
/** Virtual milliseconds per step (one tick of an undrifted clock). */
export const STEP_MS = 10
/** Steps the liveness phase waits for restarted nodes to open before it picks whom to keep fenced. */
const FENCE_START_STEPS_MAX = 20

export interface ShellSimParams extends FaultRates {
  voters: number
  observers: number
  proposeRate: number
  fetchMaxBytes: number
  tickRates: number[]
  /** Retention by size on random replicas (the broker's cleaner), or never. */
  retention: boolean
  cleanRate: number
  retentionBytes: number
  voterChangeRate: number
  splitAfterVoterChangeRate: number
  transferRate: number
  slowFsyncRate: number
  slowFsyncMaxMs: number
  /** Chance an fsync fails (EIO): the shell must reopen from disk. */
  fsyncFailRate: number
  /** State-machine log mode: when the shell snapshots. */
  snapshotPolicy?: SnapshotPolicy
  /** State-machine log mode: the last node (an observer) starts with an empty disk at this step. */
  lateJoinStep?: number
}

export interface ShellSimOptions extends SimOptions {
  /** Run a state-machine log (snapshots, a state machine) instead of a data partition: true for the key-value machine, 'metadata' for the metadata image. */
  readonly stateMachine?: boolean | 'metadata'
  /** Test-only: the state machine ignores restores (the state check must catch it). */
  readonly machineBug?: 'ignoreRestore'
  /** The metadata mode's bug switches (metadata-machine.ts). */
  readonly metadataBug?: MetadataBug
}

/** State-machine log mode's own figures. */
export interface StateMachineStats {
  snapshotsTaken: number
  snapshotsInstalled: number
  /** Node-steps whose state was compared with the committed prefix. */
  statesChecked: number
  /** The metadata mode's figures. */
  metadata?: MetadataModeStats
}

export interface ShellSimStats {
  messages: number
  crashes: number
  maxEpoch: number
  committed: number
  acked: number
  logStartMoves: number
  logResets: number
  reopens: number
  voterChanges: number
  transfers: number
  /** Node-steps with the node running, and those of them checked (idle, core and log in step). */
  nodeSteps: number
  nodeStepsChecked: number
  stateMachine?: StateMachineStats
  /** Fence and unfence events (only in seeds that fence). */
  fences?: number
  /** Link-drop notices handed to nodes (only in seeds that draw them). */
  linkDrops?: number
  /** Disks wiped (only in seeds that wipe). */
  wipes?: number
}

export interface ShellSimResult {
  readonly seed: number
  readonly ok: boolean
  readonly failure: string | null
  readonly phase: 'safety' | 'liveness'
  readonly steps: number
  readonly params: ShellSimParams
  readonly trace: readonly string[]
  /** The seed's fence events (null: it fences nothing). */
  readonly fencing: FenceParams | null
  /** The seed's link-drop events (null: it has none). */
  readonly linkDrops: LinkDropParams | null
  readonly stats: ShellSimStats
}

/** An acks=all write the shell acknowledged: these payloads at these offsets must be committed. */
interface Ack {
  readonly firstOffset: number
  readonly payloads: readonly number[]
}

let codecLoaded: Codec | null = null

export async function runShellSeed(opts: ShellSimOptions): Promise<ShellSimResult> {
  codecLoaded ??= await loadCodec()
  return new ShellSimulation(opts, codecLoaded).run()
}

function drawParams(rng: Prng): ShellSimParams {
  const voters = rng.chance(0.5) ? 3 : 5
  const voterChangeRate = rng.chance(0.4) ? rng.range(0.005, 0.04) : 0
  const observers = voterChangeRate > 0 ? 1 + rng.int(2) : rng.chance(0.2) ? 1 : 0
  const tickRates: number[] = []
  for (let i = 0; i < voters + observers; i++) tickRates.push(rng.range(0.75, 1.25))
  return {
    voters,
    observers,
    ...drawFaultRates(rng),
    proposeRate: rng.range(0.05, 0.4),
    fetchMaxBytes: rng.chance(0.5) ? 100 + rng.int(200) : 300 + rng.int(2000),
    tickRates,
    retention: rng.chance(0.6),
    cleanRate: rng.range(0.01, 0.08),
    retentionBytes: 1024 * (rng.chance(0.5) ? 1 : 2 + rng.int(2)),
    voterChangeRate,
    splitAfterVoterChangeRate: rng.chance(0.3) ? 0 : rng.range(0.3, 0.9),
    transferRate: rng.chance(0.4) ? rng.range(0.002, 0.02) : 0,
    slowFsyncRate: rng.chance(0.5) ? 0 : rng.range(0, 0.3),
    slowFsyncMaxMs: STEP_MS * (1 + rng.int(8)),
    fsyncFailRate: rng.chance(0.7) ? 0 : rng.range(0, 0.01),
  }
}

/** The state-machine log mode's draws, after the shared ones (so data-partition seeds replay as before). */
function drawStateMachineParams(rng: Prng, p: ShellSimParams): void {
  p.retention = false
  p.snapshotPolicy = {
    everyRecords: 3 + rng.int(30),
    everyBytes: rng.chance(0.3) ? 300 + rng.int(3000) : 1 << 30,
  }
  if (rng.chance(0.5)) {
    p.observers++
    p.tickRates.push(rng.range(0.75, 1.25))
    p.lateJoinStep = 50 + rng.int(SHELL_SAFETY_STEPS_DEFAULT - 50)
  }
}

const PARTITION_KINDS: readonly PartitionKind[] = ['symmetric', 'asymmetric', 'bridge', 'isolate']

class ShellSimulation {
  private readonly rng: Prng
  private readonly params: ShellSimParams
  private readonly net: SimNetwork
  private readonly time = new VirtualTime()
  private readonly nodes: ShellNode[] = []
  private readonly checker: Checker
  private readonly trace: string[] = []
  private readonly tracing: boolean
  private readonly lastState = new Map<number, string>()
  private readonly leaderHw = new Map<number, number>()
  private readonly uncommittedEpochSeen = new Map<number, number>()
  private readonly crashSoon = new Set<number>()
  private readonly acks: Ack[] = []
  private now = 0
  private nextPayload = 1
  private phase: 'safety' | 'liveness' = 'safety'
  private readonly counts = {
    crashes: 0, acked: 0, logStartMoves: 0, logResets: 0, reopens: 0, voterChanges: 0, transfers: 0, nodeSteps: 0, nodeStepsChecked: 0,
  }
  private readonly smCounts: StateMachineStats = { snapshotsTaken: 0, snapshotsInstalled: 0, statesChecked: 0 }
  /** State-machine log mode: the state every node must hold, by how far it applied. */
  private readonly committedStates: CommittedKvStates | null
  /** This seed's fence events (null: it fences nothing). */
  private readonly fencing: Fencing | null
  /** The metadata mode: its workload and image checks (null in the other modes). */
  private readonly metadata: MetadataMode | null = null
  /** This seed's link-drop events (null: it has none). */
  private readonly linkDrops: LinkDrops | null
  /** This seed's disk wipes (null: it wipes nothing; never in a seed that fences). */
  private readonly wipes: Wipes | null

  constructor(private readonly opts: ShellSimOptions, private readonly codec: Codec) {
    this.rng = new Prng(opts.seed)
    this.params = drawParams(this.rng)
    if (opts.stateMachine === true || opts.stateMachine === 'metadata') drawStateMachineParams(this.rng, this.params)
    const voters = Array.from({ length: this.params.voters }, (_, i) => i + 1)
    this.checker = new Checker(voters)
    if (opts.stateMachine === 'metadata') {
      this.metadata = new MetadataMode(this.rng.fork(), this.params.voters + this.params.observers, codec, {
        checker: this.checker,
        log: (line) => this.log(line),
        nowMs: () => this.time.now,
        nextPayload: () => this.nextPayload++,
        node: (id) => this.nodes[id - 1],
        acked: (firstOffset, payloads) => {
          this.counts.acked++
          this.acks.push({ firstOffset, payloads })
        },
      }, opts.metadataBug)
      this.params.snapshotPolicy = this.metadata.snapshotPolicy
    }
    this.fencing = Fencing.draw(opts.seed, opts.fencing !== false)
    this.linkDrops = LinkDrops.draw(opts.seed, opts.linkDrops !== false)
    // A lost voter and a fenced minority together could leave no majority for the liveness phase.
    this.wipes = this.fencing === null ? Wipes.draw(opts.seed, opts.wipes !== false) : null
    this.tracing = opts.trace === true
    const p = this.params
    this.net = new SimNetwork(this.rng.fork(), { lossRate: p.lossRate, duplicateRate: p.duplicateRate, delayMinTicks: 1, delayMaxTicks: p.delayMaxTicks })
    this.committedStates = opts.stateMachine === true ? new CommittedKvStates(this.checker) : null
    const config: ShellNodeConfig = {
      bootstrapVoters: voters,
      logConfig: resolveConfig({
        segmentBytes: 1024, retentionBytes: p.retention ? p.retentionBytes : -1, retentionMs: -1, flush: 'always',
      }),
      electionTimeoutTicks: 10,
      raft: {
        fetchTimeoutTicks: 20, fetchMaxWaitTicks: 4, fetchRetryTicks: 6, beginQuorumRetryTicks: 4, leaderLinkDropTicks: 3,
        fetchMaxBytes: Math.min(p.fetchMaxBytes, FETCH_MAX_BYTES_DEFAULT), bugs: opts.bugs,
        observerContacts: Array.from({ length: p.voters + p.observers }, (_, i) => i + 1),
      },
      slowFsyncRate: p.slowFsyncRate,
      slowFsyncMaxMs: p.slowFsyncMaxMs,
      snapshotPolicy: p.snapshotPolicy,
      machineBug: opts.machineBug,
      createMachine: this.metadata === null ? undefined : (log) => this.metadata!.createMachine(log),
      directoryIds: this.wipes !== null,
    }
    const hooks = {
      checker: this.checker,
      send: (m: Message) => this.send(m),
      log: (line: string) => this.log(line),
      counted: (what: 'reopens' | 'logResets' | 'snapshotsTaken' | 'snapshotsInstalled') => {
        if (what === 'snapshotsTaken' || what === 'snapshotsInstalled') this.smCounts[what]++
        else this.counts[what]++
      },
      fsyncFails: () => this.phase === 'safety' && this.rng.chance(this.params.fsyncFailRate),
    }
    const snapshotChains = new SnapshotChains()
    for (let id = 1; id <= p.voters + p.observers; id++) {
      const node = new ShellNode(id, config, this.rng.fork(), this.time, codec, hooks, snapshotChains)
      node.tickRate = p.tickRates[id - 1]
      this.nodes.push(node)
    }
  }

  async run(): Promise<ShellSimResult> {
    let failure: string | null = null
    try {
      if (this.tracing) this.log(`params ${JSON.stringify({ ...this.params, tickRates: this.params.tickRates.map((r) => +r.toFixed(2)) })}`)
      if (this.tracing && this.fencing !== null) this.log(`fencing ${JSON.stringify(this.fencing.params)}`)
      if (this.tracing && this.linkDrops !== null) this.log(`link drops ${JSON.stringify(this.linkDrops.params)}`)
      if (this.tracing && this.wipes !== null) this.log(`wipes ${JSON.stringify(this.wipes.params)}`)
      for (const n of this.nodes) if (!this.joinsLater(n)) n.start()
      await this.settleAll()
      const safetySteps = this.opts.safetySteps ?? SHELL_SAFETY_STEPS_DEFAULT
      while (this.now < safetySteps) await this.step(true)
      this.phase = 'liveness'
      failure = await this.liveness()
      failure ??= this.checkAcks(true)
    } catch (e) {
      failure = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
    }
    if (failure !== null) this.log(`FAIL ${failure}`)
    for (const n of this.nodes) n.crash() // nothing of this run keeps running
    let maxEpoch = 0
    for (const n of this.nodes) maxEpoch = Math.max(maxEpoch, n.log.entries.reduce((m, e) => Math.max(m, e.epoch), n.log.baseEpoch))
    return {
      seed: this.opts.seed, ok: failure === null, failure, phase: this.phase, steps: this.now, params: this.params, trace: this.trace, fencing: this.fencing?.params ?? null, linkDrops: this.linkDrops?.params ?? null,
      stats: {
        messages: this.net.sent, maxEpoch, committed: this.checker.committedEnd, ...this.counts,
        ...(this.committedStates === null && this.metadata === null ? {} : { stateMachine: { ...this.smCounts, ...(this.metadata === null ? {} : { metadata: this.metadata.stats() }) } }),
        ...(this.fencing === null ? {} : { fences: this.fencing.events }),
        ...(this.linkDrops === null ? {} : { linkDrops: this.linkDrops.events }),
        ...(this.wipes === null ? {} : { wipes: this.wipes.events }),
      },
    }
  }

  /** The late joiner, before its step. */
  private joinsLater(n: ShellNode): boolean {
    const at = this.params.lateJoinStep
    return at !== undefined && n.id === this.nodes.length && this.phase === 'safety' && this.now < at
  }

  /** Heal every fault, then demand that a leader commits a fresh proposal within the bound. */
  private async liveness(): Promise<string | null> {
    this.net.heal()
    this.net.faults = { lossRate: 0, duplicateRate: 0, delayMinTicks: 1, delayMaxTicks: 2 }
    for (const n of this.nodes) if (!n.up && !n.busy) n.start()
    this.log('liveness: healed network, restarted every node')
    const fenceFailure = await this.fenceForLiveness()
    if (fenceFailure !== null) return fenceFailure
    const ends = this.nodes.map((n) => n.log.end)
    const bound = LIVENESS_STEPS_BASE + LIVENESS_STEPS_PER_LAG_OFFSET * (Math.max(...ends) - Math.min(...ends))
    const deadline = this.now + bound
    let probe: { node: ShellNode; epoch: number; payload: number; offset: number | null } | null = null
    while (this.now < deadline) {
      await this.step(false)
      if (probe !== null && probe.offset !== null && this.checker.committedEnd > probe.offset) {
        if (this.checker.committedPayload(probe.offset) === probe.payload) return this.committedStates === null && this.metadata === null ? null : this.converge(probe.offset + 1, deadline)
        probe = null // the probe was lost in a failover; propose again
      }
      const leader = this.currentLeader()
      if (leader !== null && leader.replica!.leaderReady && (probe === null || probe.node !== leader || probe.epoch !== leader.replica!.leaderEpoch)) {
        const { payload, bytes } = this.probeBatch()
        const p: { node: ShellNode; epoch: number; payload: number; offset: number | null } = { node: leader, epoch: leader.replica!.leaderEpoch, payload, offset: null }
        probe = p
        leader.replica!.appendValidated(bytes).then((info) => {
          p.offset = info.firstOffset
          this.log(`liveness probe: payload ${payload} at n${leader.id} offset ${info.firstOffset}`)
        }, () => {
          if (probe === p) probe = null // refused (a transfer under way, say): propose again
        })
      }
    }
    return `liveness: no proposal committed within ${bound} steps after healing`
  }

  /**
   * State-machine log mode, after healing: every node applies the committed prefix up to `end`
   * (far-behind ones by installing a snapshot) and then holds exactly the committed state.
   */
  private async converge(end: number, deadline: number): Promise<string | null> {
    // The metadata mode compares images with each other: every node applies all that is committed
    // (decisions queued before healing may still commit after the probe).
    const target = () => (this.metadata === null ? end : Math.max(end, this.checker.committedEnd))
    const behind = () => this.nodes.filter((n) => !n.settled || n.replica!.appliedOffset < target())
    while (behind().length > 0) {
      if (this.now >= deadline) {
        const lagging = behind().map((n) => `n${n.id} ${n.replica === null ? 'down' : `applied ${n.replica.appliedOffset}`}`)
        return `liveness: not every node applied the probe at ${end - 1}${target() > end ? ` and the committed prefix up to ${target()}` : ''} in time (${lagging.join(', ')})`
      }
      await this.step(false)
    }
    const imageFailure = this.metadata?.converged(this.nodes) ?? null
    if (imageFailure !== null) return imageFailure
    for (const n of this.committedStates === null ? [] : this.nodes) {
      const applied = n.replica!.appliedOffset
      const want = this.committedStates!.stateAt(applied)
      const state = (n.machine as KvStateMachine).state
      if (!sameKvState(state, want)) {
        return `state-machine convergence: n${n.id} applied up to ${applied} holds ${describeKvState(state)}; the committed prefix gives ${describeKvState(want)}`
      }
    }
    this.log(`liveness: every node applied the committed prefix up to ${end} and holds its state`)
    return null
  }

  /** State-machine safety on the application's side: each idle node's state is the committed prefix's. */
  private checkStates(): void {
    this.metadata?.checkImages(this.nodes)
    const expected = this.committedStates
    if (expected === null) return
    for (const n of this.nodes) {
      if (!n.settled || n.machine === null) continue
      const applied = n.replica!.appliedOffset
      const state = (n.machine as KvStateMachine).state
      const want = expected.summaryAt(applied)
      if (want === null) throw new SafetyViolation(`state-machine safety: n${n.id} applied up to ${applied}, beyond what is committed (${this.checker.committedEnd})`)
      if (state.end > applied || state.count !== want.count || state.digest !== want.digest) {
        throw new SafetyViolation(`state-machine safety: n${n.id} applied up to ${applied} holds ${describeKvState(state)}; the committed prefix gives ${want.count} records, digest ${want.digest}`)
      }
      this.smCounts.statesChecked++
    }
  }

  /**
   * Fencing seeds: maybe every node fenced for a while first (then nobody may lead), then at most
   * a minority of every voter set stays fenced while the liveness phase demands its commit.
   */
  private async fenceForLiveness(): Promise<string | null> {
    const f = this.fencing
    if (f === null) return null
    if (f.params.allFenced) {
      f.fenceAll(this.nodes)
      this.log('liveness: every node fenced')
      // A fence is a queued input here, taken up once the replica's earlier inputs are done (the
      // checker's rule holds from then on): by the window's end, nobody may lead.
      for (let i = 0; i < ALL_FENCED_STEPS; i++) await this.step(false)
      const leader = this.currentLeader()
      if (leader !== null) return `fence: n${leader.id} leads epoch ${leader.replica!.leaderEpoch} after every node was fenced`
    }
    // Every node up (restarts open asynchronously), so every voter set in force is seen.
    for (let i = 0; i < FENCE_START_STEPS_MAX && this.nodes.some((n) => !n.up); i++) await this.step(false)
    const sets = this.nodes.filter((n) => n.replica?.online === true).map((n) => n.replica!.status().voters.length)
    this.log(f.keepMinority(this.nodes, sets.length === 0 ? 1 : Math.min(...sets)))
    return null
  }

  private currentLeader(): ShellNode | null {
    let best: ShellNode | null = null
    for (const n of this.nodes) {
      const r = n.replica
      if (r !== null && r.isLeader && (best === null || r.leaderEpoch > best.replica!.leaderEpoch)) best = n
    }
    return best
  }

  private async step(faults: boolean): Promise<void> {
    this.now++
    this.time.advanceTo(this.now * STEP_MS)
    if (faults) this.injectFaults()
    if (faults) this.injectOperations()
    if (faults && this.fencing !== null) {
      const event = this.fencing.step(this.nodes)
      if (event !== null) this.log(event)
    }
    if (faults && this.linkDrops !== null) {
      const event = this.linkDrops.step(this.nodes)
      if (event !== null) this.log(event)
    }
    if (faults && this.wipes !== null) this.wipeSomeVoter(this.wipes)
    if (this.metadata !== null) this.metadata.beforeStep(this.nodes, faults, this.params.proposeRate, this.rng)
    else if (faults && this.rng.chance(this.params.proposeRate)) this.proposeSomewhere()
    for (const m of this.net.due(this.now)) {
      const to = this.nodes[m.to - 1]
      if (to === undefined || !to.up) continue
      if (this.tracing) this.log(`deliver ${formatMessage(m)}`)
      to.deliver(m)
    }
    for (const n of this.nodes) {
      if (!n.up) continue
      n.tickDebt += n.tickRate
      while (n.tickDebt >= 1) {
        n.tickDebt -= 1
        n.tick()
      }
    }
    await this.settleAll()
    for (const n of this.nodes) if (n.violation !== null) throw n.violation
    for (const n of this.nodes) await n.sync()
    if (this.tracing) this.traceStates()
    for (const n of this.nodes) {
      if (!n.up) continue
      this.counts.nodeSteps++
      if (n.settled) this.counts.nodeStepsChecked++
    }
    this.checker.afterStep(this.nodes)
    this.checkStates()
    const ackFailure = this.checkAcks(false)
    if (ackFailure !== null) throw new Error(ackFailure)
    if (faults) this.crashLeadersAtFaultPoints()
    for (const id of this.crashSoon) this.crash(this.nodes[id - 1], 'at a fault point')
    this.crashSoon.clear()
  }

  /** Lets every promise chain run, and every virtual timer due by now fire, until all is quiet. */
  private async settleAll(): Promise<void> {
    await settle()
    for (let rounds = 0; this.time.runDue(); rounds++) {
      if (rounds >= SETTLE_ROUNDS_MAX) throw new Error(`simulator: step ${this.now} does not settle`)
      await settle()
    }
  }

  private injectFaults(): void {
    const p = this.params
    if (this.rng.chance(p.crashRate)) {
      const up = this.nodes.filter((n) => n.up)
      const leaders = up.filter((n) => n.replica!.isLeader)
      const pool = leaders.length > 0 && this.rng.chance(p.leaderCrashShare) ? leaders : up
      if (pool.length > 0) this.crash(pool[this.rng.int(pool.length)], 'random')
    }
    for (const n of this.nodes) if (!n.up && !n.busy && !this.joinsLater(n) && this.rng.chance(p.restartRate)) this.restart(n)
    if (p.lateJoinStep === this.now) {
      const n = this.nodes[this.nodes.length - 1]
      if (!n.up && !n.busy) this.restart(n)
    }
    if (this.rng.chance(p.partitionRate)) {
      if (this.net.partition !== 'none' && this.rng.chance(0.5)) {
        this.net.heal()
        this.log('network healed')
      } else {
        const kind = PARTITION_KINDS[this.rng.int(PARTITION_KINDS.length)]
        this.net.split(kind, this.nodes.map((n) => n.id))
        this.log(`partition ${kind}: ${this.net.partitionNote}`)
      }
    }
  }

  /** What operators and the broker do: retention, voter changes, leadership transfers. */
  private injectOperations(): void {
    const p = this.params
    if (p.retention && this.rng.chance(p.cleanRate)) this.clean()
    if (p.voterChangeRate > 0 && this.rng.chance(p.voterChangeRate)) this.changeVoters()
    if (p.transferRate > 0 && this.rng.chance(p.transferRate)) this.transferLeadership()
  }

  /** The broker's cleaner on one replica: mostly the leader, whose log start is what lagging followers meet. */
  private clean(): void {
    const up = this.nodes.filter((n) => n.up)
    if (up.length === 0) return
    const leader = this.currentLeader()
    const n = leader !== null && this.rng.chance(0.6) ? leader : up[this.rng.int(up.length)]
    const r = n.replica!
    const before = r.log.logStartOffset
    r.cleanLog().then(() => {
      if (r.log.logStartOffset > before) {
        this.counts.logStartMoves++
        this.log(`n${n.id} retention: log start ${before} -> ${r.log.logStartOffset}`)
      }
    }, () => undefined)
  }

  private changeVoters(): void {
    const leader = this.currentLeader()
    if (leader === null) return
    const r = leader.replica!
    const s = r.status()
    const voters = s.voters
    const others = this.nodes.filter((n) => !voters.includes(n.id)).map((n) => n.id)
    const remove = others.length === 0 || voters.length >= 5 || (voters.length > 2 ? this.rng.chance(0.5) : voters.length > 1 && this.rng.chance(0.1))
    // While a wiped voter is lost, an operator removes that one (to add the new replica back), no other.
    const lost = voters.filter((v) => isLostVoter({ offset: 0, voters, directoryIds: s.voterDirectoryIds }, this.nodes[v - 1]))
    const removable = lost.length > 0 ? lost : voters
    const target = remove ? removable[this.rng.int(removable.length)] : others[this.rng.int(others.length)]
    const change = remove ? r.removeVoter(target) : r.addVoter(target)
    change.then((result) => {
      this.log(`n${leader.id} ${remove ? 'remove' : 'add'} voter ${target}: ${result.ok ? `voters ${result.voters.join(',')}` : result.reason}`)
      if (!result.ok) return
      this.counts.voterChanges++
      if (this.phase === 'safety' && this.rng.chance(this.params.splitAfterVoterChangeRate)) {
        this.net.split(PARTITION_KINDS[this.rng.int(PARTITION_KINDS.length)], this.nodes.map((n) => n.id))
        this.log(`partition after the voter change: ${this.net.partitionNote}`)
      }
    }, () => undefined)
  }

  private transferLeadership(): void {
    const leader = this.currentLeader()
    if (leader === null) return
    const r = leader.replica!
    const others = r.status().voters.filter((v) => v !== leader.id)
    if (others.length === 0) return
    const target = others[this.rng.int(others.length)]
    r.transferLeadership(target).then((result) => {
      if (result.ok) this.counts.transfers++
      this.log(`n${leader.id} transfer leadership to ${target}: ${result.ok ? 'started' : result.reason}`)
    }, () => undefined)
  }

  /** Leaders crash right after their HW moved, or with their new epoch durable here but not yet committed. */
  private crashLeadersAtFaultPoints(): void {
    const p = this.params
    for (const n of this.nodes) {
      if (!n.settled) continue
      const r = n.replica!
      const s = r.status()
      const prior = this.leaderHw.get(n.id) ?? 0
      this.leaderHw.set(n.id, s.highWatermark)
      if (s.role !== 'leader') continue
      if (s.highWatermark > prior && this.rng.chance(p.crashAfterCommitRate)) this.crashSoon.add(n.id)
      const start = r.log.epochEntries().find((e) => e.epoch === s.epoch)?.startOffset
      const pending = start !== undefined && s.highWatermark <= start && s.flushedEnd > start
      if (p.crashNewLeaderRate > 0 && pending && this.uncommittedEpochSeen.get(n.id) !== s.epoch) {
        this.uncommittedEpochSeen.set(n.id, s.epoch)
        if (this.rng.chance(p.crashNewLeaderRate)) this.crashSoon.add(n.id)
      }
    }
  }

  /** A voter loses its whole disk (when it may: wipes.ts, and every node idle or down); it comes back on a later restart. */
  private wipeSomeVoter(wipes: Wipes): void {
    if (!this.nodes.every((n) => n.settled || (!n.up && !n.busy))) return
    const bootstrap = this.nodes.slice(0, this.params.voters).map((n) => n.id)
    const id = wipes.pick(this.checker.committedVoterSet(), this.checker.committedVotersIntact(this.nodes), this.nodes, bootstrap)
    if (id === null) return
    const n = this.nodes[id - 1]
    this.crash(n, 'to wipe its disk')
    n.wipe()
    this.log(`n${id} DISK WIPED: it returns as directory ${n.directoryId}`)
  }

  private crash(n: ShellNode, why: string): void {
    if (!n.up && !n.busy) return
    this.counts.crashes++
    n.crash()
    this.log(`n${n.id} CRASH ${why} (durable log end ${n.log.durableEnd})`)
    const heard = this.phase === 'safety' ? (this.linkDrops?.crashed(n.id, this.nodes) ?? null) : null
    if (heard !== null) this.log(heard)
  }

  private restart(n: ShellNode): void {
    n.start()
    this.log(`n${n.id} RESTART`)
  }

  /** A client batch of 1–3 records, mostly at the leader; acks=all waits for the HW. */
  private proposeSomewhere(): void {
    const up = this.nodes.filter((n) => n.up)
    if (up.length === 0) return
    const leaders = up.filter((n) => n.replica!.isLeader)
    const pool = leaders.length > 0 && this.rng.chance(0.9) ? leaders : up
    const target = pool[this.rng.int(pool.length)].replica!
    if (target.log.logEndOffset - target.highWatermark >= CLIENT_UNCOMMITTED_MAX) return
    const payloads = Array.from({ length: 1 + this.rng.int(3) }, () => this.nextPayload++)
    target.appendValidated(this.batch(payloads)).then(
      (info) => {
        if (this.tracing) this.log(`propose payloads ${payloads.join(',')} at offset ${info.firstOffset}`)
        return target.committed(info.nextOffset, CLIENT_ACK_TIMEOUT_MS).then(() => {
          this.counts.acked++
          this.acks.push({ firstOffset: info.firstOffset, payloads })
        })
      },
    ).catch(() => undefined)
  }

  /** The liveness phase's probe: one client record, or in the metadata mode one metadata record. */
  private probeBatch(): { payload: number; bytes: Uint8Array } {
    if (this.metadata !== null) {
      const { bytes, firstPayload } = this.metadata.probeBatch()
      return { payload: firstPayload, bytes }
    }
    const payload = this.nextPayload++
    return { payload, bytes: this.batch([payload]) }
  }

  private batch(payloads: readonly number[]): Uint8Array {
    return this.codec.encodeBatch(payloads.map((p) => ({ key: null, value: payloadValue(p), timestamp: this.time.now })))
  }

  /** Acknowledged writes are committed, with the acknowledged payloads (at the end: all of them). */
  private checkAcks(final: boolean): string | null {
    for (let i = this.acks.length - 1; i >= 0; i--) {
      const a = this.acks[i]
      const end = a.firstOffset + a.payloads.length
      if (end > this.checker.committedEnd) {
        if (final) return `acks=all acknowledged payloads ${a.payloads.join(',')} at ${a.firstOffset}, never committed`
        continue
      }
      for (let k = 0; k < a.payloads.length; k++) {
        const got = this.checker.committedPayload(a.firstOffset + k)
        if (got !== a.payloads[k]) {
          return `acks=all acknowledged payload ${a.payloads[k]} at offset ${a.firstOffset + k}, but ${got} is committed there`
        }
      }
      this.acks.splice(i, 1)
    }
    return null
  }

  private send(m: Message): void {
    this.net.send(m, this.now)
  }

  private traceStates(): void {
    for (const n of this.nodes) {
      if (!n.settled) continue
      const s = n.status()
      const key = `${s.role} e${s.epoch} leader=${s.leaderId ?? '-'} voted=${s.votedFor ?? '-'} hw=${s.highWatermark}`
      if (this.lastState.get(n.id) === key) continue
      this.lastState.set(n.id, key)
      this.log(`n${n.id} is ${key} log=[${formatLog(n.log.entries.slice(-12))}] (start ${n.log.start}, end ${n.log.end}, flushed ${n.log.durableEnd})`)
    }
  }

  private log(line: string): void {
    if (!this.tracing && !line.startsWith('FAIL')) return
    if (this.trace.length >= TRACE_LINES_MAX) this.trace.shift()
    this.trace.push(`t=${this.now} ${line}`)
  }
}

