// The active controller under the simulator: the shell of active/active-controller.ts over the
// controller's real pure decisions (decisions/), with the simulator's clock and PRNG in place of
// Date.now and randomUUID. It takes over once its leader epoch is committed and everything
// committed is in its node's image (ControllerState.elected from that image), follows the high
// watermark (committedTo), drops its state (and its queue) when it stops leading, and runs
// queued decisions one at a time: each checked against committed + pending records, appended as
// one batch, the state kept (re-decided at the offset the batch landed at) only once the append
// succeeded, and only then the next decided. (The real shell's randomUUID, Date.now and timers
// keep it out of the simulator: this mirrors its refresh and decideAndAppend, and the rule that
// an idle controller's state is its log's image, metadata-mode.ts, checks the mirror.)
//
// The workload: requests a cluster's brokers and operators send, drawn with the seed's PRNG —
// registrations (restarts with a new incarnation, sometimes a wiped directory), heartbeats
// carrying how far the broker's node applied the log, CreateTopics / DeleteTopics /
// AlterConfigs over a small pool of names (so names clash, and topics are deleted and created
// again), leader reports (news, stale ones, and ones about deleted topics), producer-id blocks;
// and the lease timer's expiry decision when a lease runs out.
import { heartbeat, expireLeases, register } from '../broker/controller/decisions/membership.js'
import { allocateProducerIds, reportLeaders, type LeaderReport } from '../broker/controller/decisions/reports.js'
import { ControllerState, type ControllerConfig, type Decision, type DecisionContext } from '../broker/controller/decisions/state.js'
import { alterConfigs, createTopics, deleteTopics, type CreatableTopic } from '../broker/controller/decisions/topic-decisions.js'
import type { PartitionReplica } from '../broker/partition/replica.js'
import type { MetadataImage, MetadataRecord } from '../metadata/image.js'
import type { MetadataBug } from './metadata-machine.js'
import { CONTROLLER_QUEUE_MAX } from './limits.js'
import type { Prng } from './prng.js'

/** Topic names the workload draws from: few, so creates clash and deleted names come back. */
const TOPIC_NAMES = ['orders', 'payments', 'clicks', 'audit', 'logs', 'metrics', 'events', 'users']
const RACKS = ['', 'r1', 'r2']
const LEASE_EXPIRY = 'lease expiry'

export interface MetadataWorkloadParams {
  readonly config: ControllerConfig
  /** Simulated brokers, ids 1..brokers (broker b runs on node b when there is one). */
  readonly brokers: number
}

export function drawWorkloadParams(rng: Prng, nodes: number): MetadataWorkloadParams {
  return {
    config: {
      leaseMs: 300 + rng.int(1200),
      defaultPartitions: 1 + rng.int(3),
      defaultReplicationFactor: 1,
      partitionsPerTopicMax: 6,
      topicsMax: 3 + rng.int(4),
      producerIdBlockSize: rng.chance(0.5) ? 1000 : 1 + rng.int(50),
    },
    brokers: Math.max(3, nodes),
  }
}

/** A simulated broker: the registration it sends. */
interface SimBroker {
  readonly id: number
  incarnationId: string
  directoryId: string
  rack: string
}

/** What the controller needs of its node. */
export interface ControllerNode {
  readonly id: number
  /** Null while down. */
  readonly replica: PartitionReplica | null
  /** Its committed image (the metadata state machine's). */
  image(): MetadataImage
}

/** A batch the controller appended: payload ids and where it landed. */
export interface Appended {
  readonly node: number
  readonly firstOffset: number
  readonly nextOffset: number
  readonly records: readonly MetadataRecord[]
}

export interface ControllerHooks {
  log(line: string): void
  nowMs(): number
  /** Encodes records as the controller's batch (tagging payload ids); returns the first id. */
  encode(records: readonly MetadataRecord[]): { bytes: Uint8Array; firstPayload: number }
  /** A controller's callback threw: the run fails with it after the step. */
  failed(err: Error): void
  /** The batch landed in the log (acks=all on it follows). */
  appended(a: Appended, firstPayload: number, replica: PartitionReplica): void
}

export interface WorkloadCounts {
  /** Requests sent to an active controller. */
  requests: number
  /** Times a node became the active controller (its state rebuilt from its image). */
  takeovers: number
  /** Requests turned away: the controller's queue was full, or it stopped being the active controller first. */
  dropped: number
}

/** One node's active-controller shell (the state lives only while the node leads). */
class ControllerShell {
  state: ControllerState | null = null
  epoch = -1
  /** A decision's append is under way (decisions run one at a time, the rest wait in the queue). */
  private busy = false
  private readonly queue: Array<{ what: string; decision: (state: ControllerState, ctx: DecisionContext) => Decision<unknown> }> = []

  constructor(
    readonly node: ControllerNode,
    private readonly config: ControllerConfig,
    private readonly hooks: ControllerHooks,
    /** Fresh UUIDs from the seed's PRNG (the real shell's randomUUID). */
    private readonly newUuid: () => string,
    private readonly counts: WorkloadCounts,
    private readonly bug?: MetadataBug,
  ) {}

  /** No decision is running or waiting: its state holds every record it appended. */
  get idle(): boolean {
    return !this.busy && this.queue.length === 0
  }

  /** As ActiveController.refresh: follow leadership and the HW. */
  refresh(replica: PartitionReplica | null): void {
    // The bug: lead as soon as elected, before the epoch (and every earlier record) is committed.
    const leading = this.bug === 'takeOverBeforeEpochCommit' ? replica?.isLeader === true : replica?.leaderReady === true
    if (replica === null || !leading) {
      this.state = null
      this.counts.dropped += this.queue.length // answered NOT_CONTROLLER
      this.queue.length = 0
    } else if (this.state !== null && this.epoch === replica.leaderEpoch) {
      this.state = this.state.committedTo(replica.highWatermark)
    } else if (replica.appliedOffset >= replica.highWatermark) {
      this.state = ControllerState.elected(this.config, this.node.image(), replica.appliedOffset, this.hooks.nowMs())
      this.epoch = replica.leaderEpoch
      this.counts.takeovers++
      this.hooks.log(`n${this.node.id} is the active controller (epoch ${this.epoch}, metadata offset ${replica.appliedOffset})`)
    } else {
      this.state = null
    }
  }

  /**
   * Queues a decision (the active controller's event queue); it runs once those before it
   * appended. The lease timer's decision is queued once at a time.
   */
  submit(what: string, decision: (state: ControllerState, ctx: DecisionContext) => Decision<unknown>): void {
    if (what === LEASE_EXPIRY && this.queue.some((q) => q.what === LEASE_EXPIRY)) return
    if (this.queue.length >= CONTROLLER_QUEUE_MAX) {
      this.counts.dropped++
      return
    }
    this.queue.push({ what, decision })
    this.next()
  }

  private next(): void {
    while (!this.busy && this.queue.length > 0) {
      const { what, decision } = this.queue.shift()!
      this.run(what, decision)
    }
  }

  /** As ActiveController.decideAndAppend, without the wait for the commit (the simulator checks acks). */
  private run(what: string, decision: (state: ControllerState, ctx: DecisionContext) => Decision<unknown>): void {
    const replica = this.node.replica
    const state = this.state
    if (replica === null || state === null) {
      this.counts.dropped++
      return
    }
    const epoch = this.epoch
    const ctx: DecisionContext = { nowMs: this.hooks.nowMs(), logEnd: replica.status().logEnd, newUuid: this.newUuid }
    const d = decision(state, ctx)
    if (!d.ok) {
      this.hooks.log(`n${this.node.id} controller refuses ${what}: ${d.error.code} ${d.error.message}`)
      return
    }
    if (d.records.length === 0) {
      this.state = d.next
      return
    }
    const { bytes, firstPayload } = this.hooks.encode(d.records)
    this.busy = true
    replica.appendValidated(bytes).then((info) => {
      this.hooks.log(`n${this.node.id} controller appends ${what}: ${d.records.length} records at ${info.firstOffset} (payloads ${firstPayload}..${firstPayload + d.records.length - 1})`)
      const current = this.state
      if (current !== null && this.epoch === epoch) {
        // Throws (ControllerAssertionError, MetadataError) if the records no longer fit: a bug the run reports.
        const redone = current.decided(d.answer, d.records, { ...ctx, logEnd: info.firstOffset }, d.next.leases)
        if (redone.ok) this.state = redone.next
      }
      this.hooks.appended({ node: this.node.id, firstOffset: info.firstOffset, nextOffset: info.nextOffset, records: d.records }, firstPayload, replica)
    }, () => undefined) // leadership lost, or the log refused: nothing was changed
      .catch((err: unknown) => this.hooks.failed(err as Error))
      .finally(() => {
        this.busy = false // the next decision sees this one's records (the real shell's Serial queue)
        this.next()
      })
  }
}

/** Every node's controller shell, and the requests the cluster sends to whichever is active. */
export class MetadataWorkload {
  /** Each running node's shell, with the replica (process) it belongs to. */
  private readonly shells = new Map<number, { replica: PartitionReplica; shell: ControllerShell }>()
  private readonly brokers: SimBroker[] = []
  readonly counts: WorkloadCounts = { requests: 0, takeovers: 0, dropped: 0 }

  constructor(private readonly rng: Prng, private readonly params: MetadataWorkloadParams, private readonly hooks: ControllerHooks, private readonly bug?: MetadataBug) {
    for (let id = 1; id <= params.brokers; id++) {
      this.brokers.push({ id, incarnationId: this.uuid(), directoryId: this.uuid(), rack: RACKS[this.rng.int(RACKS.length)] })
    }
  }


  /** Each running node's shell follows its replica; a node that restarted starts with none. */
  refresh(nodes: readonly ControllerNode[]): void {
    for (const n of nodes) {
      const replica = n.replica
      if (replica === null) {
        this.shells.delete(n.id)
        continue
      }
      let entry = this.shells.get(n.id)
      if (entry === undefined || entry.replica !== replica) {
        entry = { replica, shell: new ControllerShell(n, this.params.config, this.hooks, () => this.uuid(), this.counts, this.bug) }
        this.shells.set(n.id, entry)
      }
      entry.shell.refresh(replica)
    }
  }

  /** The active controllers (by node id) with their state, as of now. */
  actives(): Array<{ nodeId: number; epoch: number; state: ControllerState; idle: boolean }> {
    const out: Array<{ nodeId: number; epoch: number; state: ControllerState; idle: boolean }> = []
    for (const [nodeId, { shell }] of this.shells) if (shell.state !== null) out.push({ nodeId, epoch: shell.epoch, state: shell.state, idle: shell.idle })
    return out
  }

  /** The lease timer of every active controller: fence brokers whose lease ran out. */
  expireDue(): void {
    for (const { shell } of this.shells.values()) {
      const due = shell.state?.nextLeaseExpiryMs()
      if (due !== null && due !== undefined && due <= this.hooks.nowMs()) shell.submit(LEASE_EXPIRY, (s, ctx) => expireLeases(s, ctx))
    }
  }

  /** One request from the cluster, to an active controller (mostly the newest one). */
  request(appliedOf: (brokerId: number) => number): void {
    const active = [...this.shells.values()].map((e) => e.shell).filter((s) => s.state !== null)
    if (active.length === 0) return
    active.sort((a, b) => b.epoch - a.epoch)
    // Sometimes a deposed controller that does not know it yet (its appends must never commit).
    const shell = active.length > 1 && this.rng.chance(0.2) ? active[1 + this.rng.int(active.length - 1)] : active[0]
    const latest = shell.state!.latest
    this.counts.requests++
    const w = this.rng.int(100)
    if (w < 40) this.membership(shell, latest, appliedOf)
    else if (w < 58) this.createTopics(shell)
    else if (w < 66) {
      const names = this.someNames(1 + this.rng.int(2), latest)
      shell.submit('DeleteTopics', (s, ctx) => deleteTopics(s, { names }, ctx))
    } else if (w < 76) this.alterConfigs(shell, latest)
    else if (w < 94) {
      const reports = this.leaderReports(latest)
      shell.submit('leader reports', (s, ctx) => reportLeaders(s, reports, ctx))
    } else {
      const b = this.brokers[this.rng.int(this.brokers.length)]
      const req = { brokerId: b.id, incarnationId: b.incarnationId }
      shell.submit(`producer ids for ${b.id}`, (s, ctx) => allocateProducerIds(s, req, ctx))
    }
  }

  /**
   * A broker's heartbeat, as its lifecycle sends it: a broker the controller does not know by
   * its incarnation registers instead (as it does on BROKER_ID_NOT_REGISTERED), and sometimes
   * restarts (a new incarnation), with a wiped disk now and then (a new directory).
   */
  private membership(shell: ControllerShell, latest: MetadataImage, appliedOf: (brokerId: number) => number): void {
    const b = this.brokers[this.rng.int(this.brokers.length)]
    const restart = this.rng.chance(0.08)
    if (restart) b.incarnationId = this.uuid()
    if (restart && this.rng.chance(0.2)) b.directoryId = this.uuid()
    if (restart && this.rng.chance(0.2)) b.rack = RACKS[this.rng.int(RACKS.length)]
    if (latest.broker(b.id)?.incarnationId !== b.incarnationId) {
      const req = { brokerId: b.id, incarnationId: b.incarnationId, url: `ws://127.0.0.1:${9091 + b.id}/`, rack: b.rack, directoryId: b.directoryId }
      shell.submit(`registration of ${b.id}`, (s, ctx) => register(s, req, ctx))
      return
    }
    // A stray heartbeat of an old incarnation now and then (refused: register again).
    const req = { brokerId: b.id, incarnationId: this.rng.chance(0.05) ? this.uuid() : b.incarnationId, metadataOffset: appliedOf(b.id) }
    shell.submit(`heartbeat of ${b.id}`, (s, ctx) => heartbeat(s, req, ctx))
  }

  private createTopics(shell: ControllerShell): void {
    const topics: CreatableTopic[] = this.someNames(1 + this.rng.int(2)).map((name) => ({
      name,
      partitions: this.rng.int(5),
      replicationFactor: this.rng.chance(0.6) ? 0 : 1 + this.rng.int(3),
      configs: this.someConfigs(),
    }))
    const validateOnly = this.rng.chance(0.1)
    shell.submit('CreateTopics', (s, ctx) => createTopics(s, { topics, validateOnly }, ctx))
  }

  private alterConfigs(shell: ControllerShell, latest: MetadataImage): void {
    const changes = this.someNames(1, latest).map((topic) => {
      const keys = [...Object.keys(latest.topic(topic)?.configs ?? {}), this.rng.chance(0.1) ? 'no.such.key' : 'flush.ms']
      return { topic, set: this.someConfigs(), reset: keys.filter(() => this.rng.chance(0.4)) }
    })
    const validateOnly = this.rng.chance(0.1)
    shell.submit('AlterConfigs', (s, ctx) => alterConfigs(s, { changes, validateOnly }, ctx))
  }

  /** 1–6 reports: mostly news (a newer epoch, a replica as leader), some stale, some about no partition. */
  private leaderReports(image: MetadataImage): LeaderReport[] {
    const reports: LeaderReport[] = []
    const topics = image.topics
    for (let i = 1 + this.rng.int(6); i > 0; i--) {
      if (topics.length === 0 || this.rng.chance(0.1)) {
        reports.push({ topicId: this.uuid(), partition: 0, leader: 1, leaderEpoch: this.rng.int(5) })
        continue
      }
      const t = topics[this.rng.int(topics.length)]
      const partition = this.rng.int(t.partitions + 1) // one past the last, sometimes
      const p = t.partitionStates[partition]
      const replicas = p?.replicas ?? [1]
      const leader = this.rng.chance(0.1) ? -1 : replicas[this.rng.int(replicas.length)]
      const leaderEpoch = Math.max(0, (p?.leaderEpoch ?? 0) + this.rng.int(4) - 1)
      reports.push({ topicId: t.id, partition, leader, leaderEpoch })
    }
    return reports
  }

  /** Names from the pool; with `existing`, mostly of its topics. */
  private someNames(count: number, existing?: MetadataImage): string[] {
    const topics = existing?.topics ?? []
    return Array.from({ length: count }, () =>
      topics.length > 0 && this.rng.chance(0.7) ? topics[this.rng.int(topics.length)].name : TOPIC_NAMES[this.rng.int(TOPIC_NAMES.length)])
  }

  private someConfigs(): Record<string, string> {
    const c: Record<string, string> = {}
    if (this.rng.chance(0.4)) c['retention.ms'] = String(this.rng.chance(0.1) ? -5 : 1000 * (1 + this.rng.int(100)))
    if (this.rng.chance(0.3)) c['cleanup.policy'] = this.rng.chance(0.5) ? 'delete' : 'compact'
    if (this.rng.chance(0.2)) c['min.insync.replicas'] = String(1 + this.rng.int(3))
    if (this.rng.chance(0.2)) c['segment.ms'] = String(1 + this.rng.int(100000))
    return c
  }

  /** 32 lowercase hex digits from the seed's PRNG (topic, incarnation and directory ids). */
  private uuid(): string {
    let s = ''
    for (let i = 0; i < 4; i++) s += this.rng.next().toString(16).padStart(8, '0')
    return s
  }
}
