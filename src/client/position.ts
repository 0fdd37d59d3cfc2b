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
import type { Codec } from '../codec/index.js'
import { LOG_OVERHEAD_BYTES, readBatchHeader, splitBatches } from '../codec/index.js'
import { toConsumerRecord, type ConsumerRecord } from './records.js'

export interface PartitionRead {
  records: ConsumerRecord[]
  /** The offset to fetch next. */
  nextOffset: number
  /** > 0 when no whole batch fit in the fetch: the size of the first batch (or a guess). */
  neededBytes: number
}

export async function readPartition(
  codec: Codec, topic: string, partition: number, fetchOffset: number, bytes: Uint8Array,
  options: { maxDecompressedBytes?: number } = {},
): Promise<PartitionRead> {
  const records: ConsumerRecord[] = []
  let position = fetchOffset
  const ranges = splitBatches(bytes, true)
  for (const [start, end] of ranges) {
    const batch = bytes.subarray(start, end)
    const header = readBatchHeader(batch)
    if (header.nextOffset <= position) continue
    if (!header.control) {
      // Stored batches may have offset gaps (compaction): not contiguous.
      const decoded = await codec.decodeBatchAsync(batch, { contiguous: false, maxDecompressedBytes: options.maxDecompressedBytes })
      for (const r of decoded.records) if (r.offset >= position) records.push(toConsumerRecord(topic, partition, r))
    }
    position = header.nextOffset
  }
  return { records, nextOffset: position, neededBytes: ranges.length === 0 ? firstBatchBytes(bytes) : 0 }
}

function firstBatchBytes(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0
  if (bytes.length < LOG_OVERHEAD_BYTES) return bytes.length * 2
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(8) + LOG_OVERHEAD_BYTES
}
