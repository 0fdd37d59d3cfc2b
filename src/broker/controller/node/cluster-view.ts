// The cluster as this node answers Metadata: the committed image, the active controller, and
// the brokers registered in the image, with their fenced state (a node that has not registered
// yet is no broker clients should use).
import type { MetadataImage } from '../../../metadata/image.js'
import type { NodeId } from '../../../raft/types.js'
import type { MetadataNode } from './metadata-node.js'

export interface BrokerEndpoint {
  readonly id: NodeId
  readonly url: string
  readonly rack: string
  readonly fenced: boolean
}

export class ClusterView {
  constructor(private readonly node: MetadataNode) {}

  get image(): MetadataImage {
    return this.node.image
  }

  get controllerId(): NodeId | null {
    return this.node.controllerId
  }

  /** By id. */
  brokers(): BrokerEndpoint[] {
    return this.node.image.brokers.map((b) => ({ id: b.brokerId, url: b.url, rack: b.rack, fenced: b.fenced })).sort((a, b) => a.id - b.id)
  }
}
