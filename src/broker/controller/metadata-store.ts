// The one-node metadata store: the image of the topics this broker holds, persisted as one
// atomically replaced file (`topics.json`). Records are applied to the image (pure,
// src/metadata) and the result is durable before anyone sees it. The controller quorum will
// replace this with the __cluster_metadata log; the image and its records stay.
import { join } from 'node:path'
import { MetadataImage, type MetadataRecord, type TopicSpec } from '../../metadata/image.js'
import { newTopicRecords } from '../../metadata/records.js'
import { readSmallFile, writeFileAtomic, type FileLayer } from '../../storage/index.js'

const IMAGE_FILE = 'topics.json'
const IMAGE_FILE_VERSION = 1

export class MetadataStore {
  private constructor(
    private readonly fs: FileLayer,
    private readonly path: string,
    private readonly nodeId: number,
    private current: MetadataImage,
  ) {}

  /** Reads the saved image; a data directory without one holds no topics. */
  static load(fs: FileLayer, dataDir: string, nodeId: number): MetadataStore {
    const path = join(dataDir, IMAGE_FILE)
    const bytes = readSmallFile(fs, path)
    let topics: TopicSpec[] = []
    if (bytes !== null) {
      let parsed: { version?: unknown; topics?: TopicSpec[] }
      try {
        parsed = JSON.parse(new TextDecoder().decode(bytes))
      } catch (err) {
        throw new Error(`${path} is not valid JSON (${(err as Error).message}); restore it from a backup`)
      }
      if (parsed.version !== IMAGE_FILE_VERSION || !Array.isArray(parsed.topics)) {
        throw new Error(`${path}: unknown format (version ${String(parsed.version)}); this broker reads version ${IMAGE_FILE_VERSION}`)
      }
      topics = parsed.topics
    }
    const image = MetadataImage.EMPTY.apply(topics.flatMap((topic) => oneNodeTopicRecords(topic, nodeId)))
    return new MetadataStore(fs, path, nodeId, image)
  }

  /** The records of a new topic: every partition on this node. */
  newTopicRecords(topic: TopicSpec): MetadataRecord[] {
    return oneNodeTopicRecords(topic, this.nodeId)
  }

  get image(): MetadataImage {
    return this.current
  }

  /** Applies `records`, makes the result durable, then publishes it. Callers serialize. */
  async apply(records: readonly MetadataRecord[]): Promise<MetadataImage> {
    const next = this.current.apply(records)
    const topics: TopicSpec[] = next.topics.map(({ name, id, partitions, configs }) => ({ name, id, partitions, configs }))
    const body = JSON.stringify({ version: IMAGE_FILE_VERSION, topics }, null, 1)
    await writeFileAtomic(this.fs, this.path, new TextEncoder().encode(body))
    this.current = next
    return next
  }
}

function oneNodeTopicRecords(topic: TopicSpec, nodeId: number): MetadataRecord[] {
  return newTopicRecords(topic, Array.from({ length: topic.partitions }, () => [nodeId]))
}
