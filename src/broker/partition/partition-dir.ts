// Where a partition's log lives: `<data dir>/<topic id>-<partition>`. Keyed by topic id, not
// name, so every legal topic name fits (249 characters and an index would pass NAME_MAX) and a
// topic deleted and re-created under the same name never meets its old data.
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { TopicImage } from '../../metadata/image.js'
import type { FileLayer } from '../../storage/index.js'

/** Suffix of a directory being deleted: renamed first, so a crash mid-delete leaves no half log. */
const DELETING_SUFFIX = '.deleted'

export function partitionDir(dataDir: string, topicId: string, partition: number): string {
  return join(dataDir, `${topicId}-${partition}`)
}

/**
 * Renames a topic's partition directories from the layout before topic-id names
 * (`<name>-<p>.<id>`), if that is what the data directory holds; durable once it returns.
 * Idempotent: a crash between two renames resumes at the next start.
 */
export async function migrateLegacyDirs(fs: FileLayer, dataDir: string, topic: TopicImage): Promise<void> {
  let renamed = false
  for (let p = 0; p < topic.partitions; p++) {
    const legacy = join(dataDir, `${topic.name}-${p}.${topic.id}`)
    const current = partitionDir(dataDir, topic.id, p)
    if (fs.exists(legacy) && !fs.exists(current)) {
      fs.rename(legacy, current)
      renamed = true
    }
  }
  if (renamed) await fs.syncDir(dataDir)
}

/** Deletes a partition directory: renamed aside first, then removed. */
export async function removePartitionDir(fs: FileLayer, dir: string): Promise<void> {
  const doomed = dir + DELETING_SUFFIX
  if (fs.exists(dir)) fs.rename(dir, doomed)
  await rm(doomed, { recursive: true, force: true })
}

/** Finishes deletions a crash interrupted (directories left with the deleting suffix). */
export async function finishInterruptedDeletes(fs: FileLayer, dataDir: string): Promise<void> {
  for (const name of fs.list(dataDir)) if (name.endsWith(DELETING_SUFFIX)) await rm(join(dataDir, name), { recursive: true, force: true })
}
