// Topic names for `bitacora log dump`, offline: partition directories are named by topic id,
// and names live only in the data directory's metadata log (`__cluster_metadata-0`). The image
// is rebuilt as a starting broker would: the latest snapshot, then the log's batches after it,
// replayed in order. The high watermark is not on disk, so the tail may hold records that never
// committed (a topic created and then lost in a leader change); the replay stops at the first
// batch that fails its CRC or does not decode, where a broker would stop believing the log.
// Read-only, like the rest of the dump.
import { join } from 'node:path'
import type { Codec } from '../codec/index.js'
import { METADATA_DIR_NAME } from '../broker/controller/decisions/limits.js'
import { MetadataError, MetadataImage, type MetadataRecord } from '../metadata/image.js'
import { decodeRecord, decodeSnapshot as decodeImageSnapshot } from '../metadata/record-codec.js'
import { dumpPartition, partitionFacts } from '../storage/dump.js'
import type { FileLayer } from '../storage/index.js'
import { readWhole } from '../storage/file-layer.js'
import { SNAPSHOT_BYTES_MAX } from '../storage/limits.js'
import { decodeSnapshot as decodeSnapshotFile } from '../storage/snapshot-store.js'

const SNAPSHOT_NAME = /^(\d{20})-(\d{10})\.snapshot$/

export interface TopicNames {
  /** The image rebuilt from the metadata log; null when it could not be (see `source`). */
  readonly image: MetadataImage | null
  /** Where the names come from, or why there are none: for a note on stderr. */
  readonly source: string
}

/** The metadata image of data directory `dataDir`, as far as its metadata log on this node tells. */
export async function topicNames(fs: FileLayer, dataDir: string, codec: Codec): Promise<TopicNames> {
  const dir = join(dataDir, METADATA_DIR_NAME)
  if (!fs.exists(dir)) return { image: null, source: `no metadata log (${METADATA_DIR_NAME}) in ${dataDir}` }
  let image = MetadataImage.EMPTY
  let from = 0
  try {
    const latest = fs.list(dir).filter((name) => SNAPSHOT_NAME.test(name)).sort().pop()
    if (latest !== undefined) {
      const snapshot = decodeSnapshotFile(readWhole(fs, join(dir, latest), SNAPSHOT_BYTES_MAX), (b) => codec.crc32c(b), latest)
      image = image.apply(decodeImageSnapshot(snapshot.state))
      from = snapshot.snapshot.endOffset
    }
  } catch (err) {
    return { image: null, source: `the metadata log's snapshot is unreadable: ${(err as Error).message}` }
  }
  let end = from
  let stopped = ''
  const facts = partitionFacts(fs, dir, (b) => codec.crc32c(b))
  await dumpPartition(fs, dir, facts, codec, { records: true }, async (event) => {
    if (event.type === 'finding') {
      stopped = `; stopped at ${event.finding.kind}: ${event.finding.message}`
      return false
    }
    if (event.type !== 'batch' || event.batch.header.control || event.batch.header.nextOffset <= from) return true
    const records = event.batch.records
    if (records === undefined || !Array.isArray(records)) return true
    try {
      image = image.replay(records.map((r): MetadataRecord => {
        if (r.value === null) throw new MetadataError(`record ${r.offset} has no value`)
        return decodeRecord(r.value)
      })).image
    } catch (err) {
      // As the broker's state machine does: a batch that does not fit the image is skipped.
      if (!(err instanceof MetadataError)) throw err
    }
    end = event.batch.header.nextOffset
    return true
  })
  const snapshotPart = from > 0 ? `the snapshot at ${from} and ` : ''
  return { image, source: `names from ${snapshotPart}the metadata log up to offset ${end} (past the high watermark, which is not on disk, records may be uncommitted)${stopped}` }
}
