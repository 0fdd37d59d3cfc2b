// Topic configs the broker's own settings bound, as in Kafka: max.message.bytes defaults to the
// broker's --max-batch-bytes (Kafka's message.max.bytes) and may be set higher per topic, up to
// what a request frame can carry (--max-frame-bytes).
import type { TopicConfigs } from '../../metadata/topic-config.js'
import { FRAME_OVERHEAD_BYTES } from '../config.js'
import type { BrokerLimits } from '../limits.js'

export type TopicLimits = Pick<BrokerLimits, 'batchBytesMax' | 'frameBytesMax'>

/** The broker's defaults for topic configs, as DescribeConfigs shows them. */
export function brokerTopicDefaults(limits: TopicLimits): TopicConfigs {
  return { 'max.message.bytes': String(limits.batchBytesMax) }
}

/** Why `configs` cannot be a topic's on this broker, or null. */
export function topicLimitProblem(configs: TopicConfigs, limits: TopicLimits): string | null {
  const maxMessage = configs['max.message.bytes']
  const cap = limits.frameBytesMax - FRAME_OVERHEAD_BYTES
  if (maxMessage !== undefined && Number(maxMessage) > cap) {
    return `topic config max.message.bytes=${maxMessage} is over the ${cap} bytes a request frame can carry (raise the broker's --max-frame-bytes)`
  }
  return null
}

/** The largest batch the topic accepts, and the message to refuse a larger one with. */
export function batchLimit(topicName: string, configs: TopicConfigs, limits: TopicLimits): { bytesMax: number; refusal: (bytes: number) => string } {
  const override = configs['max.message.bytes']
  if (override !== undefined) {
    const bytesMax = Number(override)
    return { bytesMax, refusal: (n) => `a ${n}-byte batch is over topic "${topicName}"'s max.message.bytes (${bytesMax}); raise it, or send smaller batches` }
  }
  const bytesMax = limits.batchBytesMax
  return {
    bytesMax,
    refusal: (n) =>
      `a ${n}-byte batch is over the broker's --max-batch-bytes (${bytesMax}), the limit of topics without max.message.bytes; set max.message.bytes on the topic or raise --max-batch-bytes`,
  }
}
