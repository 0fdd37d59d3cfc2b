// The cluster as this node answers Metadata: the committed image, the active controller, and
// the brokers — registered ones from the image (with their fenced state), then every other
// node whose URL is known (the controller voters, until brokers register), this one included.
import type { MetadataImage } from '../../metadata/image.js'
import type { NodeId } from '../../raft/types.js'
import type { MetadataNode } from './metadata-node.js'
import type { NodeDirectory } from './node-directory.js'

export interface BrokerEndpoint {
  readonly id: NodeId
  readonly url: string
  readonly rack: string
  readonly fenced: boolean
}

export class ClusterView {
  constructor(
    private readonly node: MetadataNode,
    private readonly directory: NodeDirectory,
  ) {}

  get image(): MetadataImage {
    return this.node.image
  }

  get controllerId(): NodeId | null {
    return this.node.controllerId
  }

  /** By id. */
  brokers(): BrokerEndpoint[] {
    const image = this.node.image
    const out: BrokerEndpoint[] = image.brokers.map((b) => ({ id: b.brokerId, url: b.url, rack: b.rack, fenced: b.fenced }))
    for (const [id, url] of this.directory.all) if (image.broker(id) === undefined) out.push({ id, url, rack: '', fenced: false })
    return out.sort((a, b) => a.id - b.id)
  }
}
