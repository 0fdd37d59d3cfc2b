// The shell simulator's metadata mode (`--mode shell --state-machine metadata`): the state-machine
// log of the kv mode, with the broker's real metadata state machine on every node and the
// active controller's real decisions writing it (metadata-controller.ts). Its checks:
// - image safety, after every step: each idle node's image is the image of the committed prefix
//   it applied (never a record past the HW, never an uncommitted batch, every batch whole);
//   a node just restarted from a power cut rebuilds it from snapshot + tail;
// - controller consistency: every committed batch fits the committed image before it; and an
//   idle active controller's state is its own log's image (committed prefix + its pending
//   batches), so it decides against exactly what it appended;
// - image convergence, after healing: every node applied the probe and all images are
//   identical (record-codec's snapshot bytes), and equal the committed prefix's.
import type { Codec } from '../codec/index.js'
import type { Logger } from '../broker/log.js'
import type { PartitionReplica } from '../broker/partition/replica.js'
import type { SnapshotPolicy } from '../broker/partition/state-machine.js'
import type { MetadataImage, MetadataRecord } from '../metadata/image.js'
import { encodeRecord } from '../metadata/record-codec.js'
import { SafetyViolation, type Checker } from './checker.js'
import { CLIENT_ACK_TIMEOUT_MS } from './limits.js'
import { MetadataWorkload, drawWorkloadParams, type ControllerNode, type MetadataWorkloadParams } from './metadata-controller.js'
import { CommittedImages, describeImage, foldPayloads, imageEncoding, MetadataPayloads, SimMetadataMachine, type MetadataBug } from './metadata-machine.js'
import type { Prng } from './prng.js'
import type { ShellNode } from './shell-node.js'
import { payloadValue } from './shell-node.js'

export interface MetadataModeStats {
  /** Requests sent to active controllers, those turned away (queue full, or leadership lost first), batches appended. */
  requests: number
  dropped: number
  batches: number
  /** Times a node became the active controller (rebuilding its state from its image). */
  takeovers: number
  /** Node-steps whose image was compared with the committed prefix's. */
  imagesChecked: number
  /** Steps where an active controller's state was compared with its log's image. */
  controllersChecked: number
  /** Power-cut restarts whose rebuilt image (snapshot + tail) was checked. */
  restartsRebuilt: number
  /** Topics and brokers in the last committed image (0 when the committed prefix ends inside a batch). */
  topics: number
  brokers: number
  /** Committed metadata records, by type. */
  records: Record<string, number>
}

export interface MetadataModeHooks {
  readonly checker: Checker
  log(line: string): void
  nowMs(): number
  /** A fresh payload id (the simulation's counter). */
  nextPayload(): number
  node(id: number): ShellNode
  /** The batch at [firstOffset, firstOffset + payloads) must turn out committed once acknowledged. */
  acked(firstOffset: number, payloads: readonly number[]): void
}

export class MetadataMode {
  readonly params: MetadataWorkloadParams
  /**
   * Snapshots more often than the kv mode's policy: a metadata seed commits fewer records (one
   * decision at a time, many refused), and snapshots, log deletion below them and their
   * downloads must happen in most seeds.
   */
  readonly snapshotPolicy: SnapshotPolicy
  private readonly payloads = new MetadataPayloads()
  private readonly committed: CommittedImages
  private readonly workload: MetadataWorkload
  /** The process (replica) each node's image was last checked under: a new one is a restart. */
  private readonly checkedReplica = new Map<number, PartitionReplica>()
  private readonly counts = { batches: 0, imagesChecked: 0, restartsRebuilt: 0, controllersChecked: 0 }
  /** The liveness phase appended a probe (controller states no longer cover their logs). */
  private probed = false
  /** An error inside a controller's callback, thrown after the step. */
  private failure: Error | null = null

  constructor(rng: Prng, nodes: number, private readonly codec: Codec, private readonly hooks: MetadataModeHooks, private readonly bug?: MetadataBug) {
    this.params = drawWorkloadParams(rng, nodes)
    this.snapshotPolicy = { everyRecords: 2 + rng.int(14), everyBytes: rng.chance(0.3) ? 200 + rng.int(1500) : 1 << 30 }
    this.committed = new CommittedImages(hooks.checker, this.payloads)
    this.workload = new MetadataWorkload(rng.fork(), this.params, {
      log: (line) => hooks.log(line),
      nowMs: () => hooks.nowMs(),
      encode: (records) => this.encode(records),
      failed: (err) => {
        this.failure ??= err
      },
      appended: (a, firstPayload, replica) => {
        this.counts.batches++
        const ids = a.records.map((_, i) => firstPayload + i)
        const n = hooks.node(a.node)
        if (n.replica === replica) this.machineOf(n).publishEarly(a.records, a.nextOffset)
        replica.committed(a.nextOffset, CLIENT_ACK_TIMEOUT_MS).then(() => hooks.acked(a.firstOffset, ids), () => undefined)
      },
    }, bug)
  }

  /** A new process's metadata state machine. */
  createMachine(log: Logger): SimMetadataMachine {
    return new SimMetadataMachine(log, this.bug)
  }

  /** The records as one controller batch, each tagged with a fresh payload id in its key. */
  encode(records: readonly MetadataRecord[]): { bytes: Uint8Array; firstPayload: number } {
    const firstPayload = this.hooks.nextPayload()
    for (let i = 1; i < records.length; i++) this.hooks.nextPayload()
    this.payloads.addBatch(firstPayload, records)
    const timestamp = this.hooks.nowMs()
    const bytes = this.codec.encodeBatch(records.map((r, i) => ({ key: payloadValue(firstPayload + i), value: encodeRecord(r), timestamp })))
    return { bytes, firstPayload }
  }

  /** The liveness probe: a feature-level record (fits any image), one per payload. */
  probeBatch(): { bytes: Uint8Array; firstPayload: number } {
    this.probed = true
    return this.encode([{ type: 'featureLevel', name: 'sim.probe', level: 1 }])
  }

  /** Before a step's deliveries: controllers follow their replicas; in the safety phase the cluster sends requests. */
  beforeStep(nodes: readonly ShellNode[], requests: boolean, requestRate: number, rng: Prng): void {
    const controllerNodes = nodes.map((n): ControllerNode => ({ id: n.id, replica: n.replica, image: () => this.machineOf(n).image }))
    this.workload.refresh(controllerNodes)
    if (!requests) return
    this.workload.expireDue()
    if (rng.chance(requestRate)) this.workload.request((brokerId) => nodes[brokerId - 1]?.replica?.appliedOffset ?? 0)
  }

  /** Image safety: each idle node's image is the committed prefix's, up to what it applied. */
  checkImages(nodes: readonly ShellNode[]): void {
    if (this.failure !== null) throw this.failure
    for (const n of nodes) {
      if (!n.settled || n.machine === null) continue
      const replica = n.replica!
      const applied = replica.appliedOffset
      const image = this.machineOf(n).image
      const want = this.committed.imageAt(applied)
      if (want === null) throw new SafetyViolation(`image safety: n${n.id} applied up to ${applied}, beyond what is committed (${this.hooks.checker.committedEnd})`)
      if (imageEncoding(image) !== imageEncoding(want)) {
        throw new SafetyViolation(`image safety: n${n.id} applied up to ${applied} holds ${describeImage(image)}; the committed prefix gives ${describeImage(want)}`)
      }
      this.counts.imagesChecked++
      const before = this.checkedReplica.get(n.id)
      if (before !== replica) {
        this.checkedReplica.set(n.id, replica)
        if (before !== undefined && applied > 0) this.counts.restartsRebuilt++ // its first check after a restart
      }
    }
    this.checkControllers(nodes)
  }

  /**
   * Controller consistency on the leader's side: an idle active controller that still leads its
   * epoch decides against the image of its whole log — the committed prefix below its HW, then
   * the batches above it (its own, appended and not yet committed).
   */
  private checkControllers(nodes: readonly ShellNode[]): void {
    if (this.probed) return // the liveness probe is appended beside the controller, which does not know it
    for (const a of this.workload.actives()) {
      const n = nodes[a.nodeId - 1]
      const r = n.replica
      if (!a.idle || !n.settled || r === null || !r.leaderReady || r.leaderEpoch !== a.epoch) continue
      const hw = r.highWatermark
      const base = this.committed.imageAt(hw)
      if (base === null) continue // its HW ran ahead of what the checker learned: next step
      const tail: number[] = []
      for (let o = hw; o < n.log.end; o++) tail.push(n.log.entryAt(o).payload)
      const want = foldPayloads(base, tail, this.payloads)
      if (typeof want === 'string') throw new SafetyViolation(`controller consistency: n${n.id}'s log above its HW ${hw}: ${want}`)
      if (imageEncoding(a.state.latest) !== imageEncoding(want)) {
        throw new SafetyViolation(`controller consistency: n${n.id}, active controller of epoch ${a.epoch}, decides against ${describeImage(a.state.latest)}; its log [0, ${n.log.end}) gives ${describeImage(want)}`)
      }
      this.counts.controllersChecked++
    }
  }

  /** After healing, once every node applied up to `end`: all images identical, and the committed prefix's. */
  converged(nodes: readonly ShellNode[]): string | null {
    let first: { id: number; encoding: string; image: string } | null = null
    for (const n of nodes) {
      const applied = n.replica!.appliedOffset
      const image = this.machineOf(n).image
      const want = this.committed.imageAt(applied)
      if (want === null || imageEncoding(image) !== imageEncoding(want)) {
        return `image convergence: n${n.id} applied up to ${applied} holds ${describeImage(image)}; the committed prefix gives ${want === null ? 'nothing (not committed)' : describeImage(want)}`
      }
      const encoding = imageEncoding(image)
      if (first === null) first = { id: n.id, encoding, image: describeImage(image) }
      else if (first.encoding !== encoding) return `image convergence: n${n.id} holds ${describeImage(image)}, n${first.id} holds ${first.image}`
    }
    return null
  }

  stats(): MetadataModeStats {
    let last: MetadataImage | null = null
    try {
      last = this.committed.imageAt(this.hooks.checker.committedEnd)
    } catch {
      // the run failed on it already (the figures need not fail again)
    }
    return {
      ...this.workload.counts, batches: this.counts.batches,
      imagesChecked: this.counts.imagesChecked, restartsRebuilt: this.counts.restartsRebuilt, controllersChecked: this.counts.controllersChecked,
      topics: last?.topicCount ?? 0, brokers: last?.brokers.length ?? 0, records: { ...this.committed.recordsByType },
    }
  }

  private machineOf(n: ShellNode): SimMetadataMachine {
    return n.machine as SimMetadataMachine
  }
}
