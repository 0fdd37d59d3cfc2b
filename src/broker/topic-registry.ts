// The topics a broker holds: name, UUID, partition count and config overrides, persisted in one
// atomically replaced file. (With the controller quorum this becomes the metadata image
// replayed from __cluster_metadata; the registry's interface stays.)
import { join } from 'node:path'
import { readSmallFile, writeFileAtomic, type FileLayer } from '../storage/index.js'
import type { TopicConfigs } from './topic-config.js'

const REGISTRY_FILE = 'topics.json'
const REGISTRY_VERSION = 1

export interface TopicInfo {
  readonly name: string
  /** 32 lowercase hex digits (a random UUID without dashes). */
  readonly id: string
  readonly partitions: number
  readonly configs: TopicConfigs
}

/** Kafka's rule: 1..249 characters of [a-zA-Z0-9._-], not "." or "..". */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > 249) return `topic name must be 1..249 characters, got ${name.length}`
  if (name === '.' || name === '..') return `topic name cannot be "${name}"`
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `topic name "${name}" may only contain letters, digits, '.', '_' and '-'`
  return null
}

export class TopicRegistry {
  private constructor(
    private readonly fs: FileLayer,
    private readonly path: string,
    private readonly topics: Map<string, TopicInfo>,
  ) {}

  static load(fs: FileLayer, dataDir: string): TopicRegistry {
    const path = join(dataDir, REGISTRY_FILE)
    const bytes = readSmallFile(fs, path)
    const topics = new Map<string, TopicInfo>()
    if (bytes !== null) {
      const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { version: number; topics: TopicInfo[] }
      if (parsed.version !== REGISTRY_VERSION) throw new Error(`${path}: unknown registry version ${parsed.version}`)
      for (const t of parsed.topics) topics.set(t.name, t)
    }
    return new TopicRegistry(fs, path, topics)
  }

  get(name: string): TopicInfo | undefined {
    return this.topics.get(name)
  }

  list(): TopicInfo[] {
    return [...this.topics.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  get size(): number {
    return this.topics.size
  }

  async put(topic: TopicInfo): Promise<void> {
    const next = new Map(this.topics).set(topic.name, topic)
    await this.save(next)
    this.topics.set(topic.name, topic)
  }

  async remove(name: string): Promise<void> {
    const next = new Map(this.topics)
    next.delete(name)
    await this.save(next)
    this.topics.delete(name)
  }

  private async save(topics: Map<string, TopicInfo>): Promise<void> {
    const body = JSON.stringify({ version: REGISTRY_VERSION, topics: [...topics.values()] }, null, 1)
    await writeFileAtomic(this.fs, this.path, new TextEncoder().encode(body))
  }
}

export function partitionDir(dataDir: string, topic: TopicInfo, partition: number): string {
  // The topic id in the name keeps a re-created topic's data apart from a deleted one's.
  return join(dataDir, `${topic.name}-${partition}.${topic.id}`)
}
