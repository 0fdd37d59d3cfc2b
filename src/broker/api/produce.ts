// Produce: validate every batch fully in WASM (CRC, header, records — decompressed under the
// limit), append as leader (offsets and epoch stamped in place, never re-encoded), answer per
// acks. Each partition succeeds or fails on its own. acks=all with min.insync.replicas: refused
// with NOT_ENOUGH_REPLICAS before appending while the leader's ISR is smaller; once appended, it
// waits for that many replicas to have flushed the batch (besides the HW passing it), and a
// timeout while the ISR is too small answers NOT_ENOUGH_REPLICAS_AFTER_APPEND (both retriable).
import { splitBatches, type Codec } from '../../codec/index.js'
import type { MetadataImage } from '../../metadata/image.js'
import { topicConfigValue, type TopicConfigs } from '../../metadata/topic-config.js'
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import { PRODUCE_TIMEOUT_MS_DEFAULT, PRODUCE_TIMEOUT_MS_MAX, type BrokerLimits } from '../limits.js'
import type { AppendOrder } from '../partition/append-order.js'
import type { InSyncReplicas } from '../partition/isr.js'
import { isIdempotent, malformedProducerFields, type ProducerBatchHeader } from '../partition/producer-state.js'
import type { ProducedAppend } from '../partition/replica.js'
import { ReplicaError } from '../partition/replica-error.js'
import type { PartitionLookup } from '../partition/replica-manager.js'
import { OFFSETS_TOPIC } from '../groups/offsets-topic.js'
import { failureOf } from './leader-epoch.js'
import { unissuedProducerId, type WaitForImage } from './producer-id-issued.js'
import { batchLimit } from './topic-limits.js'

type PartitionResult = bitacora.ProduceResponse.IPartitionResult

export interface ProduceDeps {
  readonly image: () => MetadataImage
  readonly partitions: PartitionLookup
  readonly codec: Codec
  readonly limits: Pick<BrokerLimits, 'batchBytesMax' | 'frameBytesMax' | 'decompressedBytesMax'>
  /** The ISR of the partitions this broker leads (min.insync.replicas). */
  readonly isr: Pick<InSyncReplicas, 'of'>
  /** Waits for this broker's image to show a producer id's block (absent: the image now is final). */
  readonly waitForImage?: WaitForImage
}

/** `order` is the connection's: its appends to each partition happen in arrival order. */
export async function produce(deps: ProduceDeps, req: bitacora.IProduceRequest, order: AppendOrder): Promise<bitacora.IProduceResponse> {
  const acks = req.acks ?? 0
  const timeoutMs = Math.min(req.timeoutMs || PRODUCE_TIMEOUT_MS_DEFAULT, PRODUCE_TIMEOUT_MS_MAX)
  const topics = await Promise.all(
    (req.topics ?? []).map(async (t) => ({
      name: t.name,
      partitions: await Promise.all(
        (t.partitions ?? []).map((p) =>
          acks === 0 || acks === 1 || acks === -1
            ? producePartition(deps, order, t.name ?? '', p, acks, timeoutMs)
            : { index: p.index, error: wireError(ErrorCode.INVALID_REQUIRED_ACKS, `acks must be 0, 1 or -1 (all), got ${acks}`) },
        ),
      ),
    })),
  )
  return { topics }
}

async function producePartition(
  deps: ProduceDeps, order: AppendOrder, topicName: string, p: bitacora.ProduceRequest.IPartitionData, acks: number, timeoutMs: number,
): Promise<PartitionResult> {
  const index = p.index ?? 0
  const fail = (code: ErrorCode, message: string): PartitionResult => ({ index, error: wireError(code, message), baseOffset: -1 })
  // Kafka's answer for an internal topic (ReplicaManager: "Cannot append to internal topic"): only the coordinator writes it.
  if (topicName === OFFSETS_TOPIC) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, `cannot produce to the internal topic ${OFFSETS_TOPIC}: the group coordinator writes it (commit offsets with OffsetCommit, or bitacora groups reset-offsets)`)
  const topic = deps.image().topic(topicName)
  const replica = deps.partitions.partition(topicName, index)
  if (!topic || !replica) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no partition ${topicName}-${index} on this broker`)
  const records = p.records ?? new Uint8Array(0)
  if (records.length === 0) return fail(ErrorCode.INVALID_RECORD, 'the partition entry carries no record batch')
  const limit = batchLimit(topicName, topic.configs, deps.limits)
  const minInSync = acks === -1 ? minInSyncOf(topic.configs) : 1 // acks=1/0 ignore it, as Kafka's
  const tooFewInSync = (): string | null => {
    const isr = deps.isr.of(topic.id, index)
    return isr !== null && isr.length < minInSync
      ? `${topicName}-${index} has ${isr.length} in-sync replica(s) [${isr.join(', ')}], fewer than min.insync.replicas=${minInSync}`
      : null
  }
  try {
    const before = minInSync > 1 ? tooFewInSync() : null
    if (before !== null) return fail(ErrorCode.NOT_ENOUGH_REPLICAS, `${before}; nothing appended, retry`)
    // The append's place in the connection's order is taken now, before anything is awaited:
    // requests append in the order they arrived even when one validates longer (more batches, a
    // platform codec). Validation runs meanwhile and gates the append.
    const validated = validate(deps, records, limit)
    const append = async (): Promise<ProducedAppend> => {
      const { ranges, headers } = await validated
      if (!headers.some(isIdempotent)) {
        const info = await replica.appendValidated(records)
        return { batchBaseOffsets: [info.firstOffset], nextOffset: info.nextOffset, appendedNow: true, epoch: -1 }
      }
      return replica.appendProduced(records, ranges, headers)
    }
    const written = await order.run(`${index}:${topicName}`, validated.then(() => undefined), append)
    if (acks === -1) {
      const timedOut = (): ReplicaError => {
        const after = tooFewInSync()
        return after === null
          ? new ReplicaError(ErrorCode.REQUEST_TIMED_OUT, `not replicated to ${Math.max(minInSync, 1)}+ replicas within ${timeoutMs} ms; the batch may still commit`)
          : new ReplicaError(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, `${after} after the batch was appended; it may still commit`)
      }
      // Duplicates only: answered once their original offsets are committed, whatever epoch wrote them.
      if (written.appendedNow) await replica.committed(written.nextOffset, timeoutMs, minInSync, timedOut)
      else await replica.duplicateCommitted(written, timeoutMs, minInSync, timedOut)
    }
    return {
      index, error: null, baseOffset: written.batchBaseOffsets[0], logAppendTimeMs: -1, logStartOffset: replica.log.logStartOffset,
      batchBaseOffsets: written.epoch < 0 ? [] : written.batchBaseOffsets,
    }
  } catch (err) {
    if (err instanceof Refused) return { index, error: err.error, baseOffset: -1 }
    return { index, baseOffset: -1, ...failureOf(replica, err) }
  }
}

function minInSyncOf(configs: TopicConfigs): number {
  return Number(topicConfigValue(configs, 'min.insync.replicas'))
}

/** A produce refused by the handler's own checks (the wire error to answer). */
class Refused extends Error {
  constructor(readonly error: bitacora.IError) {
    super(error.message ?? '')
  }
}

/** What validation learnt of a partition entry: each batch's byte range and producer fields. */
interface Validated {
  readonly ranges: Array<[number, number]>
  readonly headers: ProducerBatchHeader[]
}

/** Every batch fully validated in WASM (decompressed under the limit); rejects with Refused or a CodecError. */
async function validate(deps: ProduceDeps, records: Uint8Array, limit: ReturnType<typeof batchLimit>): Promise<Validated> {
  const ranges = splitBatches(records)
  const headers: ProducerBatchHeader[] = []
  for (const [start, end] of ranges) {
    if (end - start > limit.bytesMax) {
      throw new Refused(wireError(ErrorCode.MESSAGE_TOO_LARGE, limit.refusal(end - start)))
    }
    const header = await deps.codec.validateBatchAsync(records.subarray(start, end), {
      contiguous: true,
      maxDecompressedBytes: deps.limits.decompressedBytesMax,
    })
    if (header.control) throw new Refused(wireError(ErrorCode.INVALID_RECORD, 'producers may not write control batches'))
    const producer = { ...header, recordCount: header.lastOffsetDelta + 1 }
    const malformed = malformedProducerFields(producer)
    if (malformed !== null) throw new Refused(wireError(ErrorCode.INVALID_RECORD, `${malformed}; nothing appended`))
    headers.push(producer)
  }
  // The batches of an entry share one producer id (checkEntry refuses them otherwise): the highest is enough.
  const producerId = headers.reduce((max, h) => Math.max(max, h.producerId), -1)
  const unissued = producerId < 0 ? null : await unissuedProducerId(deps.image, deps.waitForImage, producerId)
  if (unissued !== null) throw new Refused(unissued)
  return { ranges, headers }
}
