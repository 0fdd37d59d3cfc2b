// Topic creation, deletion and config changes on the one-node cluster, one at a time and all
// or nothing: a topic exists (in the metadata image) exactly when its partitions do (on disk).
// The controller quorum will take this over; handlers keep calling the same three methods.
import type { MetadataImage, TopicImage, TopicSpec } from '../../metadata/image.js'
import { configChangeRecords } from '../../metadata/records.js'
import type { TopicConfigs } from '../../metadata/topic-config.js'
import { ErrorCode } from '../../protocol/index.js'
import { ADMIN_QUEUED_MAX } from '../limits.js'
import type { ReplicaManager } from '../partition/replica-manager.js'
import { Serial } from '../../storage/index.js'
import type { MetadataStore } from './metadata-store.js'

/** An admin request refused by the cluster's state (the wire code to answer). */
export class TopicAdminError extends Error {
  override name = 'TopicAdminError'
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export class TopicAdmin {
  private readonly serial = new Serial(ADMIN_QUEUED_MAX)

  constructor(
    private readonly store: MetadataStore,
    private readonly replicas: ReplicaManager,
  ) {}

  get image(): MetadataImage {
    return this.store.image
  }

  /** Opens the topic's replicas, then records the topic; if either fails, neither remains. */
  create(spec: TopicSpec): Promise<void> {
    return this.serial.run(async () => {
      if (this.store.image.topic(spec.name)) throw new TopicAdminError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic "${spec.name}" already exists`)
      const records = this.store.newTopicRecords(spec)
      const topic = this.store.image.apply(records).topic(spec.name)!
      await this.replicas.create(topic)
      try {
        await this.store.apply(records)
      } catch (err) {
        await this.replicas.delete(topic)
        throw err
      }
    })
  }

  /** Forgets the topic first (a crash then leaves only directories to remove), then deletes its data. */
  delete(name: string): Promise<TopicImage> {
    return this.serial.run(async () => {
      const topic = this.store.image.topic(name)
      if (!topic) throw new TopicAdminError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no topic named "${name}"`)
      await this.store.apply([{ type: 'removeTopic', topicId: topic.id }])
      await this.replicas.delete(topic)
      return topic
    })
  }

  /** Replaces a topic's config overrides (replicas pick up log configs when reopened). */
  setConfigs(name: string, configs: TopicConfigs): Promise<void> {
    return this.serial.run(async () => {
      const topic = this.store.image.topic(name)
      if (!topic) throw new TopicAdminError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no topic named "${name}"`)
      await this.store.apply(configChangeRecords(topic.id, topic.configs, configs))
    })
  }
}
