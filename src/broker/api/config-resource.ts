// The resource a DescribeConfigs or AlterConfigs target names: only topics, for now.
import type { MetadataImage, TopicImage } from '../../metadata/image.js'
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'

/** The topic `r` names, or the wire error to answer for it. */
export function resolveTopicResource(image: MetadataImage, r: bitacora.IConfigResource | null | undefined): TopicImage | bitacora.IError {
  if (!r || r.type !== bitacora.ConfigResourceType.TOPIC) return wireError(ErrorCode.INVALID_REQUEST, 'only TOPIC config resources are supported')
  return image.topic(r.name ?? '') ?? wireError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no topic named "${r.name}"`)
}

export function isWireError(x: TopicImage | bitacora.IError): x is bitacora.IError {
  return 'code' in x
}
