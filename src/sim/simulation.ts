// One seeded simulation run: a safety phase under faults (loss, delay, reordering,
// duplication, partitions, crashes, restarts, clock drift, client load), checked after
// every step, then a liveness phase that heals everything and demands a commit in time.
import { Prng } from './prng.js'
import { drawFaultRates, type FaultRates } from './fault-rates.js'
import type { BugSwitches, Leadership, Message, VoteRequest } from '../raft/types.js'
import { Checker, isLostVoter } from './checker.js'
import { ALL_FENCED_STEPS, Fencing, type FenceableNode, type FenceParams } from './fencing.js'
import { formatLog, formatMessage } from './format.js'
import { LinkDrops, type LinkDropNode, type LinkDropParams } from './link-drops.js'
import { SIM_ENTRY_BYTES, type SimEntry, type SimLog, type SimSnapshot } from './sim-log.js'
import { SimNetwork, type PartitionKind } from './sim-network.js'
import { SimNode, type DamageFinding } from './sim-node.js'
import { CLIENT_UNCOMMITTED_MAX, TRACE_LINES_MAX } from './limits.js'
import { Wipes } from './wipes.js'
import { DiskDamage, type DamageParams } from './disk-damage.js'

/** Steps of the fault-injecting safety phase. */
export const SAFETY_STEPS_DEFAULT = 1000
/** Steps the healed cluster gets to elect a leader and commit a fresh proposal... */
export const LIVENESS_STEPS_BASE = 400
/** ...plus this many per offset the furthest-behind voter must catch up (catch-up is bounded by fetch size). */
export const LIVENESS_STEPS_PER_LAG_OFFSET = 4

export interface SimOptions {
  readonly seed: number
  readonly bugs?: BugSwitches
  readonly safetySteps?: number
  readonly trace?: boolean
  /** Fence and unfence nodes in the seeds that draw it (default true; false: no seed fences). */
  readonly fencing?: boolean
  /** Report crashes and link flaps to other nodes in the seeds that draw it (default true; false: none does). */
  readonly linkDrops?: boolean
  /** Wipe voters' disks in the seeds that draw it (default true; false: no seed wipes). */
  readonly wipes?: boolean
  /** Damage entries of replicas' logs in the seeds that draw it (default true; false: none does). Stand-in mode. */
  readonly damage?: boolean
}

export interface SimParams extends FaultRates {
  voters: number
  observers: number
  flushDelayMaxTicks: number
  proposeRate: number
  fetchMaxBytes: number
  tickRates: number[]
  logStartMode: LogStartMode
  logStartRate: number
  voterChangeRate: number
  /** Chance the network splits right after a voter change is appended (changes left half-replicated). */
  splitAfterVoterChangeRate: number
  transferRate: number
}

export interface SimResult {
  readonly seed: number
  readonly ok: boolean
  readonly failure: string | null
  readonly phase: 'safety' | 'liveness'
  readonly steps: number
  readonly params: SimParams
  readonly trace: readonly string[]
  /** The seed's fence events (null: it fences nothing). */
  readonly fencing: FenceParams | null
  /** The seed's link-drop events (null: it has none). */
  readonly linkDrops: LinkDropParams | null
  /** The seed's disk damage (null: it damages nothing). */
  readonly damage?: DamageParams | null
  readonly stats: SimStats
}

export interface SimStats {
  messages: number
  crashes: number
  maxEpoch: number
  committed: number
  /** Log-start moves: snapshots taken (state-machine mode) or retention runs (data mode). */
  logStartMoves: number
  snapshotsInstalled: number
  logResets: number
  voterChanges: number
  transfers: number
  /** Fence and unfence events (only in seeds that fence). */
  fences?: number
  /** Link-drop notices handed to nodes (only in seeds that draw them). */
  linkDrops?: number
  /** Disks wiped (only in seeds that wipe). */
  wipes?: number
  /** Log entries damaged, and damage the shells found (only in seeds that damage). */
  damaged?: number
  damageFound?: number
}

/** How a seed's log moves its start: never, by retention (data partition) or by snapshots (state machine). */
export type LogStartMode = 'fixed' | 'retention' | 'snapshots'

export function runSeed(opts: SimOptions): SimResult {
  const sim = new Simulation(opts)
  return sim.run()
}

function drawParams(rng: Prng): SimParams {
  const voters = rng.chance(0.5) ? 3 : 5
  const voterChangeRate = rng.chance(0.5) ? rng.range(0.005, 0.06) : 0
  // Voter changes need spare nodes to add; others sometimes get an observer.
  const observers = voterChangeRate > 0 ? 1 + rng.int(2) : rng.chance(0.25) ? 1 : 0
  const modes: readonly LogStartMode[] = ['fixed', 'retention', 'snapshots']
  const tickRates: number[] = []
  for (let i = 0; i < voters + observers; i++) tickRates.push(rng.range(0.75, 1.25))
  return {
    voters,
    observers,
    ...drawFaultRates(rng),
    flushDelayMaxTicks: 1 + rng.int(8),
    proposeRate: rng.range(0.02, 0.3),
    fetchMaxBytes: SIM_ENTRY_BYTES * (rng.chance(0.5) ? 1 : 2 + rng.int(9)),
    tickRates,
    logStartMode: modes[rng.int(modes.length)],
    logStartRate: rng.range(0.005, 0.05),
    voterChangeRate,
    splitAfterVoterChangeRate: rng.chance(0.3) ? 0 : rng.range(0.3, 0.9),
    transferRate: rng.chance(0.4) ? rng.range(0.002, 0.02) : 0,
  }
}

const PARTITION_KINDS: readonly PartitionKind[] = ['symmetric', 'asymmetric', 'bridge', 'isolate']

/** A leader whose LeaderChange is appended (and, if `flushed`, on its own disk) but not yet committed. */
function leaderChangePending(n: SimNode, flushed = false): boolean {
  const s = n.core!.status()
  const start = n.core!.epochCache().find((e) => e.epoch === s.epoch)?.startOffset
  return start !== undefined && s.highWatermark <= start && (!flushed || s.flushedEnd > start)
}

class Simulation {
  private readonly rng: Prng
  private readonly params: SimParams
  private readonly net: SimNetwork
  private readonly nodes: SimNode[] = []
  private readonly checker: Checker
  private readonly trace: string[] = []
  private readonly tracing: boolean
  private readonly lastLeadership = new Map<number, string>()
  private readonly lastHw = new Map<number, number>()
  private now = 0
  private nextPayload = 1
  private crashes = 0
  private readonly counts = { logStartMoves: 0, snapshotsInstalled: 0, logResets: 0, voterChanges: 0, transfers: 0 }
  private phase: 'safety' | 'liveness' = 'safety'
  /** This seed's fence events (null: it fences nothing). */
  private readonly fencing: Fencing | null
  /** This seed's link-drop events (null: it has none). */
  private readonly linkDrops: LinkDrops | null
  /** The nodes as the link drops see them (a notice drains the node's Ready at the step's time). */
  private readonly linkables: LinkDropNode[] = []
  /** This seed's disk wipes (null: it wipes nothing; never in a seed that fences). */
  private readonly wipes: Wipes | null
  /** This seed's disk damage (null: it damages nothing; never in a seed that fences or wipes). */
  private readonly damage: DiskDamage | null
  private damageFound = 0
  /** The nodes as the fence events see them (setting a fence drains the node's Ready at the step's time). */
  private readonly fenceables: FenceableNode[] = []
  /** Nodes to crash at the end of this step (targeted fault points). */
  private readonly crashSoon = new Set<number>()
  private readonly leaderHw = new Map<number, number>()
  /** The epoch each node was last seen leading with its LeaderChange flushed but not committed. */
  private readonly uncommittedEpochSeen = new Map<number, number>()

  constructor(private readonly opts: SimOptions) {
    this.rng = new Prng(opts.seed)
    this.params = drawParams(this.rng)
    this.fencing = Fencing.draw(opts.seed, opts.fencing !== false)
    this.linkDrops = LinkDrops.draw(opts.seed, opts.linkDrops !== false)
    // A lost voter and a fenced minority together could leave no majority for the liveness phase.
    this.wipes = this.fencing === null ? Wipes.draw(opts.seed, opts.wipes !== false) : null
    // An abstaining damaged voter beside a fenced or a lost one could leave no leader to repair it.
    this.damage = this.wipes === null && this.fencing === null ? DiskDamage.draw(opts.seed, opts.damage !== false) : null
    this.tracing = opts.trace === true
    const p = this.params
    this.net = new SimNetwork(this.rng.fork(), {
      lossRate: p.lossRate, duplicateRate: p.duplicateRate, delayMinTicks: 1, delayMaxTicks: p.delayMaxTicks,
    })
    const voters = Array.from({ length: p.voters }, (_, i) => i + 1)
    this.checker = new Checker(voters, this.nodes)
    const config = {
      voters, electionTimeoutTicks: 10, fetchTimeoutTicks: 20, fetchMaxWaitTicks: 4, fetchRetryTicks: 6,
      beginQuorumRetryTicks: 4, leaderLinkDropTicks: 3, fetchMaxBytes: p.fetchMaxBytes, bugs: opts.bugs,
      observerContacts: Array.from({ length: p.voters + p.observers }, (_, i) => i + 1),
    }
    const hooks = {
      send: (m: Message) => {
        this.checker.sent(this.nodes[m.from - 1], m)
        this.send(m)
      },
      appendedEntry: this.checker.appendedEntry.bind(this.checker),
      voteGranted: (voter: number, req: VoteRequest, lastEpoch: number, logEnd: number, voterDirectoryId?: string) => {
        this.checker.voteGranted(voter, req, lastEpoch, logEnd, voterDirectoryId)
        if (!req.preVote && this.phase === 'safety' && this.rng.chance(this.params.crashAfterVoteRate)) this.crashSoon.add(voter)
      },
      truncating: (id: number, offset: number, damage: boolean) => {
        this.log(`n${id} truncate to ${offset}${damage ? ' (damaged log)' : ''}`)
        this.checker.truncating(this.nodes[id - 1], offset, damage)
      },
      damageFound: (id: number, offset: number, logEnd: number, how: DamageFinding) => {
        this.damageFound++
        this.log(`n${id} finds damage at ${offset} (${how}; log end ${logEnd})`)
        this.checker.damageFound(this.nodes[id - 1], offset, logEnd)
      },
      served: (id: number, entries: readonly SimEntry[], log: SimLog) => this.checker.served(this.nodes[id - 1], entries, log),
      snapshot: (id: number, s: SimSnapshot, how: 'taken' | 'installed') => {
        if (how === 'installed') this.counts.snapshotsInstalled++
        this.log(`n${id} snapshot ${how} at ${s.endOffset} (epoch ${s.epoch}, ${s.sizeBytes} bytes)`)
        this.checker.snapshot(id, s, how)
      },
      resetting: (id: number, logStart: number, epoch: number, chain: number) => {
        this.counts.logResets++
        this.log(`n${id} reset: log starts over at ${logStart} (epoch ${epoch} below it)`)
        this.checker.reset(id, logStart, epoch, chain)
      },
    }
    for (let id = 1; id <= p.voters + p.observers; id++) {
      const node = new SimNode(id, { config, flushDelayMaxTicks: p.flushDelayMaxTicks, directoryIds: this.wipes !== null, damage: this.damage !== null }, this.rng.fork(), hooks)
      node.tickRate = p.tickRates[id - 1]
      this.nodes.push(node)
      this.fenceables.push({
        id,
        get fenced() {
          return node.fenced
        },
        setFenced: (fenced) => node.setFenced(fenced, this.now),
      })
      this.linkables.push({
        id,
        get up() {
          return node.up
        },
        get leading() {
          return node.up && node.core!.status().role === 'leader'
        },
        linkDown: (peer) => node.linkDown(peer, this.now),
      })
    }
  }

  run(): SimResult {
    let failure: string | null = null
    try {
      if (this.tracing) this.log(`params ${JSON.stringify({ ...this.params, tickRates: this.params.tickRates.map((r) => +r.toFixed(2)) })}`)
      if (this.tracing && this.fencing !== null) this.log(`fencing ${JSON.stringify(this.fencing.params)}`)
      if (this.tracing && this.linkDrops !== null) this.log(`link drops ${JSON.stringify(this.linkDrops.params)}`)
      if (this.tracing && this.wipes !== null) this.log(`wipes ${JSON.stringify(this.wipes.params)}`)
      if (this.tracing && this.damage !== null) this.log(`disk damage ${JSON.stringify(this.damage.params)}`)
      for (const n of this.nodes) n.start(this.now)
      const safetySteps = this.opts.safetySteps ?? SAFETY_STEPS_DEFAULT
      while (this.now < safetySteps) this.step(true)
      this.phase = 'liveness'
      failure = this.liveness()
    } catch (e) {
      failure = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
    }
    if (failure !== null) this.log(`FAIL ${failure}`)
    let maxEpoch = 0
    for (const n of this.nodes) maxEpoch = Math.max(maxEpoch, n.persisted?.epoch ?? 0)
    return {
      seed: this.opts.seed, ok: failure === null, failure, phase: this.phase, steps: this.now, params: this.params,
      trace: this.trace, fencing: this.fencing?.params ?? null, linkDrops: this.linkDrops?.params ?? null,
      ...(this.damage === null ? {} : { damage: this.damage.params }),
      stats: {
        messages: this.net.sent, crashes: this.crashes, maxEpoch, committed: this.checker.committedEnd, ...this.counts,
        ...(this.fencing === null ? {} : { fences: this.fencing.events }),
        ...(this.linkDrops === null ? {} : { linkDrops: this.linkDrops.events }),
        ...(this.wipes === null ? {} : { wipes: this.wipes.events }),
        ...(this.damage === null ? {} : { damaged: this.damage.events, damageFound: this.damageFound }),
      },
    }
  }

  /** Heal every fault, then demand that a leader commits a fresh proposal within the bound. */
  private liveness(): string | null {
    this.net.heal()
    this.net.faults = { lossRate: 0, duplicateRate: 0, delayMinTicks: 1, delayMaxTicks: 2 }
    for (const n of this.nodes) if (!n.up) this.restart(n)
    this.log('liveness: healed network, restarted every node')
    const fenceFailure = this.fenceForLiveness()
    if (fenceFailure !== null) return fenceFailure
    const ends = this.nodes.map((n) => n.log.end)
    const bound = LIVENESS_STEPS_BASE + LIVENESS_STEPS_PER_LAG_OFFSET * (Math.max(...ends) - Math.min(...ends))
    const deadline = this.now + bound
    let probe: { node: SimNode; epoch: number; offset: number; chain: number } | null = null
    while (this.now < deadline) {
      this.step(false)
      if (probe !== null && this.checker.committedEnd > probe.offset) {
        if (this.checker.committed(probe.offset) === probe.chain) return null
        probe = null // the probe was lost in a failover; propose again
      }
      const leader = this.currentLeader()
      if (leader !== null && (probe === null || probe.node !== leader || probe.epoch !== leader.core!.status().epoch)) {
        const payload = this.nextPayload++
        const offset = leader.propose(payload, this.now)
        if (offset !== null) {
          probe = { node: leader, epoch: leader.core!.status().epoch, offset, chain: leader.log.entryAt(offset).chain }
          this.log(`liveness probe: payload ${payload} at n${leader.id} offset ${offset}`)
        }
      }
    }
    return `liveness: no proposal committed within ${bound} steps after healing`
  }

  /**
   * Fencing seeds: maybe every node fenced for a while first (nobody may lead: a leader would
   * be fenced, which the checker forbids, but this says what it means), then at most a minority
   * of every voter set stays fenced while the liveness phase demands its commit.
   */
  private fenceForLiveness(): string | null {
    const f = this.fencing
    if (f === null) return null
    if (f.params.allFenced) {
      f.fenceAll(this.fenceables)
      this.log('liveness: every node fenced')
      for (let i = 0; i < ALL_FENCED_STEPS; i++) {
        this.step(false)
        const leader = this.currentLeader()
        if (leader !== null) return `fence: n${leader.id} leads epoch ${leader.core!.status().epoch} while every node is fenced`
      }
    }
    const smallest = Math.min(...this.nodes.map((n) => n.core!.status().voters.length))
    this.log(f.keepMinority(this.fenceables, smallest))
    return null
  }


  private currentLeader(): SimNode | null {
    let best: SimNode | null = null
    for (const n of this.nodes) {
      if (!n.up) continue
      const s = n.core!.status()
      if (s.role === 'leader' && (best === null || s.epoch > best.core!.status().epoch)) best = n
    }
    return best
  }

  private step(faults: boolean): void {
    this.now++
    if (faults) this.injectFaults()
    if (faults) this.injectOperations()
    if (faults && this.fencing !== null) {
      const event = this.fencing.step(this.fenceables)
      if (event !== null) this.log(event)
    }
    if (faults && this.linkDrops !== null) {
      const event = this.linkDrops.step(this.linkables)
      if (event !== null) this.log(event)
    }
    if (faults && this.wipes !== null) this.wipeSomeVoter(this.wipes)
    if (faults && this.damage !== null) this.damageSomeLog(this.damage)
    if (faults && this.rng.chance(this.params.proposeRate)) this.proposeSomewhere()
    for (const m of this.net.due(this.now)) {
      const to = this.nodes[m.to - 1]
      if (to === undefined || !to.up) continue
      if (this.tracing) this.log(`deliver ${formatMessage(m)}`)
      to.deliver(m, this.now)
    }
    for (const n of this.nodes) {
      if (!n.up) continue
      n.tickDebt += n.tickRate
      while (n.tickDebt >= 1 && n.up) {
        n.tickDebt -= 1
        n.tick(this.now)
      }
      n.flushTick(this.now)
    }
    if (this.tracing) this.traceStates()
    this.checker.afterStep(this.nodes)
    if (faults) this.crashLeadersAtFaultPoints()
    for (const id of this.crashSoon) this.crash(this.nodes[id - 1], 'at a fault point')
    this.crashSoon.clear()
  }

  private injectFaults(): void {
    const p = this.params
    if (this.rng.chance(p.crashRate)) {
      const up = this.nodes.filter((n) => n.up)
      const leaders = up.filter((n) => n.core!.status().role === 'leader')
      const pool = leaders.length > 0 && this.rng.chance(p.leaderCrashShare) ? leaders : up
      if (pool.length > 0) this.crash(pool[this.rng.int(pool.length)], 'random')
    }
    for (const n of this.nodes) if (!n.up && this.rng.chance(p.restartRate)) this.restart(n)
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

  /** What operators and applications do: snapshots or retention, voter changes, leadership transfers. */
  private injectOperations(): void {
    const p = this.params
    if (p.logStartMode !== 'fixed' && this.rng.chance(p.logStartRate)) this.moveLogStart()
    if (p.voterChangeRate > 0 && (this.rng.chance(p.voterChangeRate) || this.freshLeaderAsksForChange())) this.changeVoters()
    if (p.transferRate > 0 && this.rng.chance(p.transferRate)) this.transferLeadership()
  }

  /** Operators often change voters right after a failover: aim some changes at leaders whose epoch has not committed. */
  private freshLeaderAsksForChange(): boolean {
    const leader = this.currentLeader()
    if (leader === null) return false
    return leaderChangePending(leader) && this.rng.chance(0.5)
  }

  private moveLogStart(): void {
    const up = this.nodes.filter((n) => n.up)
    if (up.length === 0) return
    const n = up[this.rng.int(up.length)]
    const s = n.core!.status()
    const snapshots = this.params.logStartMode === 'snapshots'
    // A snapshot may cover anything committed; retention deletes only what is also flushed.
    const limit = snapshots ? s.highWatermark : Math.min(s.highWatermark, s.flushedEnd)
    if (limit <= s.logStart) return
    const offset = s.logStart + 1 + this.rng.int(limit - s.logStart)
    this.counts.logStartMoves++
    if (snapshots) n.takeSnapshot(offset, this.now)
    else {
      this.log(`n${n.id} retention: log start ${offset}`)
      n.advanceLogStart(offset, this.now)
    }
  }

  private changeVoters(): void {
    const leader = this.currentLeader()
    if (leader === null) return
    const s = leader.core!.status()
    const voters = s.voters
    const others = this.nodes.filter((n) => !voters.includes(n.id)).map((n) => n.id)
    const remove = others.length === 0 || voters.length >= 5 || (voters.length > 2 ? this.rng.chance(0.5) : voters.length > 1 && this.rng.chance(0.1))
    // While a wiped voter is lost, an operator removes that one (to add the new replica back), no other.
    const lost = voters.filter((v) => isLostVoter({ offset: 0, voters, directoryIds: s.voterDirectoryIds }, this.nodes[v - 1]))
    const removable = lost.length > 0 ? lost : voters
    const target = remove ? removable[this.rng.int(removable.length)] : others[this.rng.int(others.length)]
    if (remove && voters.length <= 3 && this.damageOutstanding()) {
      // Two voters, one of them damaged: no leader could be elected to repair it (disk-damage.ts).
      this.log(`n${leader.id} remove voter ${target}: not while a damaged log is unrepaired`)
      return
    }
    const r = leader.control(this.now, (c) => (remove ? c.removeVoter(target) : c.addVoter(target)))
    this.log(`n${leader.id} ${remove ? 'remove' : 'add'} voter ${target}: ${r.ok ? `voters ${r.voters.join(',')}` : r.reason}`)
    if (!r.ok) return
    this.counts.voterChanges++
    if (this.rng.chance(this.params.splitAfterVoterChangeRate)) {
      this.net.split(PARTITION_KINDS[this.rng.int(PARTITION_KINDS.length)], this.nodes.map((n) => n.id))
      this.log(`partition after the voter change: ${this.net.partitionNote}`)
    }
  }

  private transferLeadership(): void {
    const leader = this.currentLeader()
    if (leader === null) return
    const others = leader.core!.status().voters.filter((v) => v !== leader.id)
    if (others.length === 0) return
    const target = others[this.rng.int(others.length)]
    const r = leader.control(this.now, (c) => c.transferLeadership(target))
    if (r.ok) this.counts.transfers++
    this.log(`n${leader.id} transfer leadership to ${target}: ${r.ok ? 'started' : r.reason}`)
  }

  /** Leaders crash right after their HW moved, or with their new epoch durable here but not yet committed. */
  private crashLeadersAtFaultPoints(): void {
    const p = this.params
    for (const n of this.nodes) {
      if (!n.up) continue
      const s = n.core!.status()
      const prior = this.leaderHw.get(n.id) ?? 0
      this.leaderHw.set(n.id, s.highWatermark)
      if (s.role !== 'leader') continue
      if (s.highWatermark > prior && this.rng.chance(p.crashAfterCommitRate)) this.crashSoon.add(n.id)
      if (p.crashNewLeaderRate > 0 && this.uncommittedEpochSeen.get(n.id) !== s.epoch && leaderChangePending(n, true)) {
        this.uncommittedEpochSeen.set(n.id, s.epoch)
        if (this.rng.chance(p.crashNewLeaderRate)) this.crashSoon.add(n.id)
      }
    }
  }

  /** Some log holds bad bytes, found or not, or is not yet repaired. */
  private damageOutstanding(): boolean {
    return this.damage !== null && (this.checker.damagedLogs > 0 || this.nodes.some((n) => n.log.damagedAt !== null || n.log.repairEnd !== null))
  }

  /** A voter loses its whole disk (when it may: wipes.ts); it comes back on a later restart. */
  private wipeSomeVoter(wipes: Wipes): void {
    const committed = this.checker.committedVoterSet()
    const id = wipes.pick(committed, this.checker.committedVotersIntact(this.nodes), this.nodes, this.nodes.slice(0, this.params.voters).map((n) => n.id))
    if (id === null) return
    const n = this.nodes[id - 1]
    this.crash(n, 'to wipe its disk')
    n.wipe()
    this.log(`n${id} DISK WIPED: it returns as directory ${n.directoryId}`)
  }

  /** An entry of some replica's stored log goes bad (disk-damage.ts); scrubs find what reads have not. */
  private damageSomeLog(damage: DiskDamage): void {
    const event = damage.step(this.nodes, this.checker.damagedLogs, this.checker.committedVoterSet().voters.length)
    if (event !== null) this.log(event)
    const found = damage.scrub(this.nodes, this.now)
    if (found !== null) this.log(found)
  }

  private crash(n: SimNode, why: string): void {
    if (!n.up) return
    this.crashes++
    n.crash()
    this.log(`n${n.id} CRASH ${why} (durable log end ${n.log.end})`)
    const heard = this.phase === 'safety' ? (this.linkDrops?.crashed(n.id, this.linkables) ?? null) : null
    if (heard !== null) this.log(heard)
  }

  private restart(n: SimNode): void {
    n.start(this.now)
    if (this.tracing) this.log(`n${n.id} RESTART ${JSON.stringify(n.persisted)} log=[${formatLog(n.log.entries)}]`)
  }

  private proposeSomewhere(): void {
    // Clients mostly find the leader; sometimes they hit a stale one or a follower.
    const up = this.nodes.filter((n) => n.up)
    if (up.length === 0) return
    const leaders = up.filter((n) => n.core!.status().role === 'leader')
    const pool = leaders.length > 0 && this.rng.chance(0.9) ? leaders : up
    const target = pool[this.rng.int(pool.length)]
    const s = target.core!.status()
    if (s.logEnd - s.highWatermark >= CLIENT_UNCOMMITTED_MAX) return
    const payload = this.nextPayload++
    const offset = target.propose(payload, this.now)
    if (offset !== null && this.tracing) this.log(`n${target.id} propose payload ${payload} at offset ${offset}`)
  }

  private send(m: Message): void {
    this.net.send(m, this.now)
  }

  private traceStates(): void {
    for (const n of this.nodes) {
      if (!n.up) continue
      const s = n.core!.status()
      const l: Leadership = n.core!.leadership()
      const key = `${l.role} e${l.epoch} leader=${l.leaderId ?? '-'} voted=${s.votedFor ?? '-'}`
      if (this.lastLeadership.get(n.id) !== key) {
        this.lastLeadership.set(n.id, key)
        this.log(`n${n.id} is ${key}`)
      }
      if (this.lastHw.get(n.id) !== s.highWatermark) {
        this.lastHw.set(n.id, s.highWatermark)
        this.log(`n${n.id} hw=${s.highWatermark} log=[${formatLog(n.log.entries.slice(-12))}] (start ${n.log.start}, end ${n.log.end}, flushed ${n.log.durableEnd})`)
      }
    }
  }

  private log(line: string): void {
    if (!this.tracing && !line.startsWith('FAIL')) return
    if (this.trace.length >= TRACE_LINES_MAX) this.trace.shift()
    this.trace.push(`t=${this.now} ${line}`)
  }
}
