// The one-node metadata store: the image of the topics this broker holds, persisted as one
// atomically replaced file (`topics.json`). Records are applied to the image (pure,
// src/metadata) and the result is durable before anyone sees it. The controller quorum will
// replace this with the __cluster_metadata log; the image and its records stay.
import { join } from 'node:path'
import { MetadataImage, type MetadataRecord, type TopicImage } from '../../metadata/image.js'
import { readSmallFile, writeFileAtomic, type FileLayer } from '../../storage/index.js'

const IMAGE_FILE = 'topics.json'
const IMAGE_FILE_VERSION = 1

export class MetadataStore {
  private constructor(
    private readonly fs: FileLayer,
    private readonly path: string,
    private current: MetadataImage,
  ) {}

  /** Reads the saved image; a data directory without one holds no topics. */
  static load(fs: FileLayer, dataDir: string): MetadataStore {
    const path = join(dataDir, IMAGE_FILE)
    const bytes = readSmallFile(fs, path)
    let topics: TopicImage[] = []
    if (bytes !== null) {
      let parsed: { version?: unknown; topics?: TopicImage[] }
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
    const image = MetadataImage.EMPTY.apply(topics.map((topic) => ({ type: 'topic', topic })))
    return new MetadataStore(fs, path, image)
  }

  get image(): MetadataImage {
    return this.current
  }

  /** Applies `records`, makes the result durable, then publishes it. Callers serialize. */
  async apply(records: readonly MetadataRecord[]): Promise<MetadataImage> {
    const next = this.current.apply(records)
    const body = JSON.stringify({ version: IMAGE_FILE_VERSION, topics: next.topics }, null, 1)
    await writeFileAtomic(this.fs, this.path, new TextEncoder().encode(body))
    this.current = next
    return next
  }
}
