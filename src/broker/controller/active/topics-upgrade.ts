// Upgrading a data directory of the one-node releases, whose topics lived in `topics.json`, to
// the metadata log: on the first start of this release its topics become records with their
// existing UUIDs (so their partition directories, named by topic id, are theirs again), every
// partition on this node, committed through the metadata log like any change. Then topics.json
// is renamed (kept for the record, never read again). A crash in between is safe: topics the
// log already holds are not written twice, and the rename happens on the next start.
import { join } from 'node:path'
import type { MetadataRecord, TopicSpec } from '../../../metadata/image.js'
import { encodeRecord } from '../../../metadata/record-codec.js'
import { newTopicRecords } from '../../../metadata/records.js'
import { readSmallFile, type FileLayer } from '../../../storage/index.js'
import type { Logger } from '../../log.js'
import { StartupError } from '../../startup-error.js'
import type { ActiveController } from './active-controller.js'
import { METADATA_BATCH_BYTES_MAX, METADATA_STARTUP_TIMEOUT_MS } from '../decisions/limits.js'
import type { MetadataNode } from '../node/metadata-node.js'

export const LEGACY_TOPICS_FILE = 'topics.json'
/** What topics.json becomes once upgraded. */
export const UPGRADED_TOPICS_FILE = 'topics.json.upgraded'
const LEGACY_VERSION = 1
/** Records per batch, in bytes, with room for each record's framing in the batch. */
const BATCH_RECORD_BYTES_MAX = METADATA_BATCH_BYTES_MAX / 2

/** The topics of a one-node release's topics.json, or null when there is none. */
export function readLegacyTopics(fs: FileLayer, dataDir: string): TopicSpec[] | null {
  const path = join(dataDir, LEGACY_TOPICS_FILE)
  const bytes = readSmallFile(fs, path)
  if (bytes === null) return null
  let parsed: { version?: unknown; topics?: unknown }
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes)) as typeof parsed
  } catch (err) {
    throw new StartupError(`${path} is not valid JSON (${(err as Error).message}); restore it from a backup`)
  }
  if (parsed.version !== LEGACY_VERSION || !Array.isArray(parsed.topics)) {
    throw new StartupError(`${path}: unknown format (version ${String(parsed.version)}); this broker upgrades version ${LEGACY_VERSION}`)
  }
  return parsed.topics as TopicSpec[]
}

/**
 * Writes the topics of topics.json that the metadata log lacks into it, then renames the file.
 * Needs this node to lead its own metadata log: a one-node cluster (started without
 * --controller-voters), which the release that wrote topics.json always was.
 */
export async function upgradeLegacyTopics(
  fs: FileLayer, dataDir: string, topics: readonly TopicSpec[], node: MetadataNode, controller: ActiveController, log: Logger,
): Promise<void> {
  const image = node.image
  const missing = topics.filter((t) => image.topicById(t.id) === undefined)
  for (const t of missing) {
    const holder = image.topic(t.name)
    if (holder) throw new StartupError(`${join(dataDir, LEGACY_TOPICS_FILE)} names topic "${t.name}" with id ${t.id}, but the metadata log has it with id ${holder.id}; restore the data directory from a backup`)
  }
  for (const records of batches(missing.map((t) => newTopicRecords(t, Array.from({ length: t.partitions }, () => [node.nodeId]))))) {
    try {
      await controller.submit((state, ctx) => state.decided(null, records, ctx), METADATA_STARTUP_TIMEOUT_MS)
    } catch (err) {
      throw new StartupError(`cannot upgrade ${join(dataDir, LEGACY_TOPICS_FILE)} into the metadata log: ${(err as Error).message}`)
    }
  }
  fs.rename(join(dataDir, LEGACY_TOPICS_FILE), join(dataDir, UPGRADED_TOPICS_FILE))
  await fs.syncDir(dataDir)
  log.info('topics.json upgraded into the metadata log', { topics: topics.length, written: missing.length, kept: UPGRADED_TOPICS_FILE })
}

/** Each topic's records whole, in batches that fit one metadata change. */
function batches(topics: readonly MetadataRecord[][]): MetadataRecord[][] {
  const out: MetadataRecord[][] = []
  let current: MetadataRecord[] = []
  let bytes = 0
  for (const records of topics) {
    const size = records.reduce((n, r) => n + encodeRecord(r).length + 16, 0)
    if (current.length > 0 && bytes + size > BATCH_RECORD_BYTES_MAX) {
      out.push(current)
      current = []
      bytes = 0
    }
    current.push(...records)
    bytes += size
  }
  if (current.length > 0) out.push(current)
  return out
}
