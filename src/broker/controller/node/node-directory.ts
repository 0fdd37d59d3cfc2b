// Where each node of the cluster listens: what the peer transport connects to. Sources, each
// overriding the one before: the --controller-voters list, URLs heard on this node (given to
// add-voter, or carried by a registration a node sent here before it was committed), and broker
// registrations in the metadata image, from which every node learns every registered URL.
// This node's own URL is its listener's unless the voter list names it (peers reach it there:
// a proxy, say) — never what the image says: that may be an earlier run's, on another port.
// Routes (--peer-route) change only where this node dials a peer, never the URL it names to
// clients or registers: a test puts a proxy between two brokers while clients go direct.
import type { MetadataImage } from '../../../metadata/image.js'
import type { NodeId } from '../../../raft/types.js'
import type { ControllerVoter } from './voter-list.js'

export class NodeDirectory {
  private readonly fromList: ReadonlyMap<NodeId, string>
  private readonly learned = new Map<NodeId, string>()
  private registered: ReadonlyMap<NodeId, string> = new Map()
  private urls: ReadonlyMap<NodeId, string>
  private readonly routes: ReadonlyMap<NodeId, string>
  private readonly listeners = new Set<(peers: ReadonlyMap<NodeId, string>) => void>()

  constructor(
    readonly selfId: NodeId,
    private readonly listenerUrl: string,
    voters: readonly ControllerVoter[] | undefined,
    routes: readonly ControllerVoter[] = [],
  ) {
    this.routes = new Map(routes.filter((r) => r.id !== selfId).map((r) => [r.id, r.url]))
    this.fromList = new Map((voters ?? []).map((v) => [v.id, v.url]))
    this.urls = this.merge()
  }

  /** Every node with a known URL, this one included. */
  get all(): ReadonlyMap<NodeId, string> {
    return this.urls
  }

  urlOf(id: NodeId): string | undefined {
    return this.urls.get(id)
  }

  /** Where the peer transport dials each node: its URL, or the route given for it. */
  get dialed(): ReadonlyMap<NodeId, string> {
    return new Map([...this.urls].map(([id, url]) => [id, this.routes.get(id) ?? url]))
  }

  /** Remembers a URL heard for a node (add-voter, a registration not yet committed), unless a committed registration says otherwise. */
  learn(id: NodeId, url: string): void {
    if (this.learned.get(id) === url) return
    this.learned.set(id, url)
    this.update()
  }

  /** A publisher of the metadata image: registered brokers' URLs. */
  setImage(image: MetadataImage): void {
    const registered = new Map(image.brokers.map((b) => [b.brokerId, b.url]))
    if (sameMap(registered, this.registered)) return
    this.registered = registered
    this.update()
  }

  /** Called with where to dial every node (`dialed`) whenever a URL changes. */
  onChange(listener: (peers: ReadonlyMap<NodeId, string>) => void): void {
    this.listeners.add(listener)
  }

  private update(): void {
    const next = this.merge()
    if (sameMap(next, this.urls)) return
    this.urls = next
    const dialed = this.dialed
    for (const listener of this.listeners) listener(dialed)
  }

  private merge(): Map<NodeId, string> {
    const urls = new Map([...this.fromList, ...this.learned, ...this.registered])
    // Never this node's registration of an earlier run: it may have listened elsewhere then.
    urls.set(this.selfId, this.fromList.get(this.selfId) ?? this.listenerUrl)
    return urls
  }
}

function sameMap(a: ReadonlyMap<NodeId, string>, b: ReadonlyMap<NodeId, string>): boolean {
  if (a.size !== b.size) return false
  for (const [k, v] of a) if (b.get(k) !== v) return false
  return true
}
