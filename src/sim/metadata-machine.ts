// The metadata state machine under the simulator (`--state-machine metadata`): every node runs the
// broker's real MetadataStateMachine (committed batches of MetadataRecords → the immutable image,
// snapshots through record-codec). The checker's side folds the committed prefix into the image
// it must hold (CommittedImages), with the same all-or-nothing replay, and compares a canonical
// encoding of the two (the snapshot bytes of record-codec).
//
// The simulator tags each record it writes with a payload id in the record's key (the metadata
// state machine reads values only), so the shadow log and the checker follow records as in the
// other modes; MetadataPayloads maps each id back to its record and its batch.
import { MetadataStateMachine } from '../broker/controller/node/metadata-state-machine.js'
import type { Logger } from '../broker/log.js'
import type { CommittedBatch, StateMachine } from '../broker/partition/state-machine.js'
import { MetadataError, MetadataImage, type MetadataRecord } from '../metadata/image.js'
import { encodeSnapshot } from '../metadata/record-codec.js'
import { bitacora } from '../protocol/index.js'
import { SafetyViolation, type Checker } from './checker.js'

/** Bugs the metadata mode can re-introduce, each of which its checks must catch. */
export const METADATA_BUG_NAMES = [
  /** A snapshot that loses every topic's config overrides (a record kind dropped by the encoder). */
  'snapshotDropsConfigs',
  /** The active controller publishes its own records to its image on append, before they commit. */
  'applyBeforeCommit',
  /** A new active controller takes over once elected, before its epoch commits: its state lacks earlier epochs' uncommitted records. */
  'takeOverBeforeEpochCommit',
] as const
export type MetadataBug = (typeof METADATA_BUG_NAMES)[number]

/** One simulated record: what it is, and where it sits in the batch the controller appended. */
interface PayloadRecord {
  readonly record: MetadataRecord
  /** Payload id of the batch's first record, and the batch's record count. */
  readonly batchFirst: number
  readonly batchSize: number
}

/** Every record the simulator wrote, by payload id (ids of one batch are consecutive). */
export class MetadataPayloads {
  private readonly byId = new Map<number, PayloadRecord>()

  /** Registers a batch under consecutive ids starting at `first`. */
  addBatch(first: number, records: readonly MetadataRecord[]): void {
    records.forEach((record, i) => this.byId.set(first + i, { record, batchFirst: first, batchSize: records.length }))
  }

  get(payload: number): PayloadRecord | undefined {
    return this.byId.get(payload)
  }
}

/** The canonical encoding images are compared by: record-codec's snapshot bytes. */
const encodings = new WeakMap<MetadataImage, string>()
export function imageEncoding(image: MetadataImage): string {
  let s = encodings.get(image)
  if (s === undefined) {
    s = Buffer.from(encodeSnapshot(image)).toString('base64')
    encodings.set(image, s)
  }
  return s
}

export function describeImage(image: MetadataImage): string {
  const brokers = image.brokers.map((b) => `${b.brokerId}${b.fenced ? 'f' : ''}`).join(',')
  const topics = image.topics.map((t) => `${t.name}(${t.partitions}p${Object.keys(t.configs).length > 0 ? ` ${Object.keys(t.configs).length}c` : ''})`).join(',')
  return `brokers [${brokers}] topics [${topics}] producer ids ${image.nextProducerId}`
}

/** A node's metadata state machine, and the bugs it can be switched to. */
export class SimMetadataMachine implements StateMachine {
  private readonly inner: MetadataStateMachine
  /** applyBeforeCommit: offsets below this are in the image already (published at append). */
  private publishedEnd = 0
  private early: MetadataImage | null = null

  constructor(log: Logger, private readonly bug: MetadataBug | undefined) {
    this.inner = new MetadataStateMachine(log, () => undefined)
  }

  /** The image this node answers with. */
  get image(): MetadataImage {
    return this.early ?? this.inner.image
  }

  apply(batch: CommittedBatch): void {
    this.inner.apply(batch)
    if (this.early !== null && batch.nextOffset >= this.publishedEnd) this.early = null
  }

  snapshot(): Uint8Array {
    const bytes = this.inner.snapshot()
    if (this.bug !== 'snapshotDropsConfigs') return bytes
    const s = bitacora.MetadataSnapshot.decode(bytes)
    for (const t of s.topics) t.configs = {}
    return bitacora.MetadataSnapshot.encode(s).finish()
  }

  restore(state: Uint8Array | null, endOffset: number): void {
    this.early = null
    this.inner.restore(state, endOffset)
  }

  /** applyBeforeCommit only: the active controller's records, just appended below `end`. */
  publishEarly(records: readonly MetadataRecord[], end: number): void {
    if (this.bug !== 'applyBeforeCommit') return
    try {
      this.early = this.image.apply(records)
      this.publishedEnd = end
    } catch (err) {
      if (!(err instanceof MetadataError)) throw err
    }
  }
}

/**
 * `base` with the batches of `payloads` (a log's records from a batch boundary on) replayed
 * onto it; an error names what does not fit (a batch cut short, or a misfit).
 */
export function foldPayloads(base: MetadataImage, payloads: readonly number[], registry: MetadataPayloads): MetadataImage | string {
  let image = base
  for (let i = 0; i < payloads.length;) {
    if (payloads[i] <= 0) {
      i++
      continue
    }
    const first = registry.get(payloads[i])
    if (first === undefined || first.batchFirst !== payloads[i]) return `payload ${payloads[i]} does not start a batch the simulator wrote`
    const records: MetadataRecord[] = []
    for (let k = 0; k < first.batchSize; k++) {
      if (payloads[i + k] !== first.batchFirst + k) return `the batch of payloads ${first.batchFirst}.. is cut short`
      records.push(registry.get(first.batchFirst + k)!.record)
    }
    try {
      image = image.apply(records)
    } catch (err) {
      if (!(err instanceof MetadataError)) throw err
      return `the batch of payloads ${first.batchFirst}.. does not fit (${err.message})`
    }
    i += first.batchSize
  }
  return image
}

/**
 * The image of the committed prefix below each offset, folded from what the checker learned is
 * committed: batches replayed whole, in log order, control records skipped. A committed batch
 * that does not fit the image is a violation here (the real state machine skips it on every node
 * alike): the controller's decisions check every batch against committed + pending records, so
 * one that misfits is a bug in the decisions or in how a new controller rebuilt its state.
 */
export class CommittedImages {
  /** Image below offset o, for each o folded so far (undefined: o falls inside a batch). */
  private readonly below: (MetadataImage | undefined)[] = [MetadataImage.EMPTY]
  private last = MetadataImage.EMPTY
  /** Committed records folded so far, by type (the run's figures). */
  readonly recordsByType: Record<string, number> = {}

  constructor(private readonly checker: Checker, private readonly payloads: MetadataPayloads) {}

  /** The image of the committed prefix below `end`, or null if it is not all committed. */
  imageAt(end: number): MetadataImage | null {
    if (end > this.checker.committedEnd) return null
    this.fold()
    if (end >= this.below.length) return null // the committed prefix ends inside a batch
    const image = this.below[end]
    if (image === undefined) throw new SafetyViolation(`image safety: offset ${end} falls inside a committed batch, yet a node's image ends there`)
    return image
  }

  private fold(): void {
    const committed = this.checker.committedEnd
    for (let o = this.below.length - 1; o < committed;) {
      const payload = this.checker.committedPayload(o)!
      if (payload <= 0) { // a LeaderChange or voter record: nothing of the image
        this.below.push(this.last)
        o++
        continue
      }
      const first = this.payloads.get(payload)
      if (first === undefined || first.batchFirst !== payload) throw new SafetyViolation(`image safety: committed offset ${o} holds payload ${payload}, not the start of a batch the simulator wrote`)
      if (o + first.batchSize > committed) return // the rest of the batch is not committed yet
      const records: MetadataRecord[] = []
      for (let k = 0; k < first.batchSize; k++) {
        const p = this.checker.committedPayload(o + k)
        if (p !== payload + k) throw new SafetyViolation(`image safety: committed offset ${o + k} holds payload ${p}, expected ${payload + k} (batch split)`)
        records.push(this.payloads.get(p)!.record)
      }
      try {
        this.last = this.last.apply(records)
      } catch (err) {
        if (!(err instanceof MetadataError)) throw err
        throw new SafetyViolation(`controller consistency: the committed batch at ${o} does not fit the committed image (${err.message})`)
      }
      for (const r of records) this.recordsByType[r.type] = (this.recordsByType[r.type] ?? 0) + 1
      for (let k = 1; k < first.batchSize; k++) this.below.push(undefined)
      this.below.push(this.last)
      o += first.batchSize
    }
  }
}
