// The metadata image: the topics the cluster holds, immutable, and the records that change it
// (Kafka's MetadataImage and MetadataDelta, applied in one step). Pure: the one-node store
// persists the image today; the controller quorum will replay __cluster_metadata into it.
// Readers keep the image they were given, so none sees a half-applied batch of records.
import type { TopicConfigs } from './topic-config.js'

export interface TopicImage {
  readonly name: string
  /** 32 lowercase hex digits (a random UUID without dashes): what partitions are keyed by on disk. */
  readonly id: string
  readonly partitions: number
  /** Overrides of the topic config defaults (topic-config.ts). */
  readonly configs: TopicConfigs
}

export type MetadataRecord =
  | { readonly type: 'topic'; readonly topic: TopicImage }
  | { readonly type: 'removeTopic'; readonly id: string }
  /** Replaces a topic's config overrides. */
  | { readonly type: 'topicConfigs'; readonly id: string; readonly configs: TopicConfigs }

/** A record that does not fit the image it is applied to: a bug in the writer, or a corrupt log. */
export class MetadataError extends Error {
  override name = 'MetadataError'
}

export class MetadataImage {
  static readonly EMPTY = new MetadataImage(new Map())

  private sorted: readonly TopicImage[] | null = null

  private constructor(private readonly byName: ReadonlyMap<string, TopicImage>) {}

  topic(name: string): TopicImage | undefined {
    return this.byName.get(name)
  }

  /** Every topic, by name. */
  get topics(): readonly TopicImage[] {
    this.sorted ??= [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    return this.sorted
  }

  get topicCount(): number {
    return this.byName.size
  }

  /** The image after `records`, in order; this image is unchanged. */
  apply(records: readonly MetadataRecord[]): MetadataImage {
    const next = new Map(this.byName)
    const nameOf = new Map([...next.values()].map((t) => [t.id, t.name]))
    const known = (id: string): string => {
      const name = nameOf.get(id)
      if (name === undefined) throw new MetadataError(`no topic has id ${id}`)
      return name
    }
    for (const r of records) {
      switch (r.type) {
        case 'topic':
          if (next.has(r.topic.name)) throw new MetadataError(`topic "${r.topic.name}" already exists`)
          if (nameOf.has(r.topic.id)) throw new MetadataError(`topic id ${r.topic.id} is taken`)
          next.set(r.topic.name, r.topic)
          nameOf.set(r.topic.id, r.topic.name)
          break
        case 'removeTopic':
          next.delete(known(r.id))
          nameOf.delete(r.id)
          break
        case 'topicConfigs': {
          const name = known(r.id)
          next.set(name, { ...next.get(name)!, configs: r.configs })
          break
        }
      }
    }
    return new MetadataImage(next)
  }
}
