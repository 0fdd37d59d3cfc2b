// DescribeConfigs: a topic's effective configs (overrides and defaults), optionally only some keys.
import type { MetadataImage } from '../../metadata/image.js'
import { effectiveConfigs } from '../../metadata/topic-config.js'
import type { bitacora } from '../../protocol/index.js'
import { brokerTopicDefaults, type TopicLimits } from './topic-limits.js'
import { isWireError, resolveTopicResource } from './config-resource.js'

export function describeConfigs(image: MetadataImage, limits: TopicLimits, req: bitacora.IDescribeConfigsRequest): bitacora.IDescribeConfigsResponse {
  return {
    results: (req.resources ?? []).map((target) => {
      const topic = resolveTopicResource(image, target.resource)
      if (isWireError(topic)) return { resource: target.resource, error: topic, entries: [] }
      const keys = new Set(target.keys ?? [])
      return {
        resource: target.resource,
        error: null,
        entries: effectiveConfigs(topic.configs, brokerTopicDefaults(limits))
          .filter(({ entry }) => keys.size === 0 || keys.has(entry.name))
          .map(({ entry, value, isDefault }) => ({ name: entry.name, value, isDefault, readOnly: false, documentation: entry.doc })),
      }
    }),
  }
}
