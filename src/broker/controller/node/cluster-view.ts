// The cluster as this node answers Metadata: the committed image, the active controller, and
// the brokers registered in the image, with their fenced state (a node that has not registered
// yet is no broker clients should use). About itself a node knows better than its image: after a
// restart the image still shows it unfenced from its previous run until it registers again, so
// it answers fenced for itself until its own lifecycle is unfenced in this run.
import type { MetadataImage } from '../../../metadata/image.js'
import type { NodeId } from '../../../raft/types.js'
import type { MetadataNode } from './metadata-node.js'

export interface BrokerEndpoint {
  readonly id: NodeId
  readonly url: string
  readonly rack: string
  readonly fenced: boolean
}

/** This node as a broker: whether it is fenced in this run (controller/node/lifecycle.ts). */
export interface SelfFence {
  readonly fenced: boolean
}

export class ClusterView {
  constructor(
    private readonly node: MetadataNode,
    private readonly self?: SelfFence,
  ) {}

  get image(): MetadataImage {
    return this.node.image
  }

  get controllerId(): NodeId | null {
    return this.node.controllerId
  }

  /** By id. */
  brokers(): BrokerEndpoint[] {
    const selfId = this.node.nodeId
    return this.node.image.brokers
      .map((b) => ({ id: b.brokerId, url: b.url, rack: b.rack, fenced: b.fenced || (b.brokerId === selfId && (this.self?.fenced ?? false)) }))
      .sort((a, b) => a.id - b.id)
  }
}
