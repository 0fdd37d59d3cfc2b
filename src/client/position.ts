// What a consumer takes from one partition's fetched bytes, and where it stands afterwards.
// Pure over the codec, so it is tested on real encoded batches:
// - batches wholly below the position are skipped without decoding (a fetch starts at the
//   batch that contains the offset asked for, so its first records may be older: skip them);
// - control batches (transaction and Raft markers) yield nothing, but the position still
//   moves past them, or a consumer parked on a marker would fetch it forever;
// - the position after a batch is header.nextOffset, not last record + 1: compaction can
//   remove a batch's last records without shrinking its offset range;
// - a fetch may end with part of a batch (as Kafka's does): it is ignored and fetched again
//   next time; if nothing whole arrived, `neededBytes` says how much the next fetch needs.
// Two steps: scanPartition reads batch headers only (so the next fetch can be asked for at
// once), decodePartition validates and indexes the batches it found (CRC, every record), and
// checks the CRC of those it skipped: their header fields (the control flag, the offsets)
// decided the skip, and the broker does not re-check bytes it wrote on every read.
import type { BatchHeader, Codec } from '../codec/index.js'
import { CodecError, declaredBatchBytes, isSyncCompression, LOG_OVERHEAD_BYTES, RECORD_INDEX_INTS, RECORD_INDEX_SLOT, readBatchHeader, splitBatches } from '../codec/index.js'
import { RecordsView, type IndexedSegment } from './fetched-batch.js'
import type { ConsumerRecord } from './records.js'

export interface PartitionScan {
  fetchOffset: number
  /** Whole data batches that hold offsets at or past fetchOffset, in order (control batches left out). */
  batches: Array<{ bytes: Uint8Array; header: BatchHeader }>
  /** Whole batches skipped on their header (control, or wholly below fetchOffset): CRC-checked by decodePartition. */
  skipped: Uint8Array[]
  /** The offset to fetch next. */
  nextOffset: number
  /** > 0 when no whole batch fit in the fetch: the size of the first batch (or a guess). */
  neededBytes: number
}

export interface PartitionRead {
  view: RecordsView
  /** The view's records as objects (built on first use). */
  readonly records: ConsumerRecord[]
  nextOffset: number
  neededBytes: number
}

/** Batch headers only: which batches to decode and where the partition stands after them. */
export function scanPartition(fetchOffset: number, bytes: Uint8Array): PartitionScan {
  const batches: PartitionScan['batches'] = []
  const skipped: Uint8Array[] = []
  let position = fetchOffset
  const ranges = splitBatches(bytes, true)
  for (const [start, end] of ranges) {
    const batch = bytes.subarray(start, end)
    const header = readBatchHeader(batch)
    if (header.nextOffset <= position) {
      skipped.push(batch)
      continue
    }
    if (!header.control) batches.push({ bytes: batch, header })
    else skipped.push(batch)
    position = header.nextOffset
  }
  return { fetchOffset, batches, skipped, nextOffset: position, neededBytes: ranges.length === 0 ? firstBatchBytes(bytes) : 0 }
}

/** Validates and indexes the scanned batches (a corrupt one throws); records below fetchOffset are skipped. */
export async function decodePartition(
  codec: Codec, scan: PartitionScan, options: { maxDecompressedBytes?: number } = {},
): Promise<IndexedSegment[]> {
  for (const bytes of scan.skipped) {
    if (!codec.batchCrcMatches(bytes)) {
      throw new CodecError('BATCH_BAD_CRC', 'a record batch the consumer skipped (control, or below the position) fails its CRC32C: the batch is corrupt')
    }
  }
  const segments: IndexedSegment[] = []
  for (const { bytes, header } of scan.batches) {
    // Stored batches may have offset gaps (compaction): not contiguous.
    const validate = { contiguous: false, maxDecompressedBytes: options.maxDecompressedBytes }
    const index = isSyncCompression(header.compression) ? codec.indexBatch(bytes, validate) : await codec.indexBatchAsync(bytes, validate)
    segments.push({ index, first: firstAtOrAfter(index.records, header, scan.fetchOffset) })
  }
  return segments
}

export async function readPartition(
  codec: Codec, topic: string, partition: number, fetchOffset: number, bytes: Uint8Array,
  options: { maxDecompressedBytes?: number } = {},
): Promise<PartitionRead> {
  const scan = scanPartition(fetchOffset, bytes)
  const view = new RecordsView(topic, partition, await decodePartition(codec, scan, options))
  return {
    view,
    get records() {
      return view.records
    },
    nextOffset: scan.nextOffset,
    neededBytes: scan.neededBytes,
  }
}

/** Index of the batch's first record with an offset >= position (offsets increase within a batch). */
function firstAtOrAfter(records: Int32Array, header: BatchHeader, position: number): number {
  if (header.baseOffset >= position) return 0
  let i = 0
  while (i < header.recordCount && header.baseOffset + records[i * RECORD_INDEX_INTS + RECORD_INDEX_SLOT.offsetDelta] < position) i++
  return i
}

function firstBatchBytes(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0
  if (bytes.length < LOG_OVERHEAD_BYTES) return bytes.length * 2
  return declaredBatchBytes(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength))
}
