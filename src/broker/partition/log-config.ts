// A topic's configs as the storage engine's LogConfig.
import { topicConfigValue, type TopicConfigs } from '../../metadata/topic-config.js'
import { resolveConfig, type LogConfig } from '../../storage/index.js'

export function logConfigOf(overrides: TopicConfigs): LogConfig {
  const n = (name: string) => Number(topicConfigValue(overrides, name))
  return resolveConfig({
    retentionMs: n('retention.ms'),
    retentionBytes: n('retention.bytes'),
    cleanupPolicy: topicConfigValue(overrides, 'cleanup.policy') as LogConfig['cleanupPolicy'],
    segmentBytes: n('segment.bytes'),
    segmentMs: n('segment.ms'),
    flush: topicConfigValue(overrides, 'flush.policy') as LogConfig['flush'],
    flushIntervalMs: n('flush.ms'),
    deleteRetentionMs: n('delete.retention.ms'),
  })
}
