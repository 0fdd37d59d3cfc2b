// Link-drop events of a simulated cluster: the broker's peer transport tells a node that its
// link to a peer closed (net/peer-transport.ts `onPeerClosed`), and the node hands that to its
// cores (`leaderUnreachable`), whose followers of that peer then pre-vote after a short delay.
// A killed process closes its sockets at once, so a crash is reported to the others (each may
// miss it: no link was open); a live node's links may also just flap, reported to some nodes
// while it goes on leading. The existing checker rules hold throughout. The draws come from a
// stream of their own, so a seed that draws no link drops replays exactly as before they existed.
import { optionalFaultStream } from './fault-rates.js'
import type { Prng } from './prng.js'

/** Offset of the link-drop stream's seed from the run's (apart from the fence stream's). */
const LINK_DROP_STREAM = 0x11d0_0000_0000

export interface LinkDropParams {
  /** Chance that each other node hears of a crash (it had a link open to the crashed node). */
  readonly crashNoticeRate: number
  /** Chance per safety step that a live node's links flap, heard by some of the others. */
  readonly flapRate: number
  /** Share of flaps aimed at a leader (the case that could disturb a healthy cluster). */
  readonly leaderShare: number
}

/** A simulated broker as the link drops see it. */
export interface LinkDropNode {
  readonly id: number
  readonly up: boolean
  /** Leads its group (link flaps are aimed at leaders first). */
  readonly leading: boolean
  /** Hands the transport's notice to the node's replica (core.leaderUnreachable). */
  linkDown(peer: number): void
}

export class LinkDrops {
  /** Notices handed to nodes so far. */
  events = 0

  private constructor(readonly params: LinkDropParams, private readonly rng: Prng) {}

  /** This seed's link drops, or null when it has none (half of the seeds, or all when disabled). */
  static draw(seed: number, enabled: boolean): LinkDrops | null {
    const rng = optionalFaultStream(seed, LINK_DROP_STREAM, enabled, 0.5)
    if (rng === null) return null
    return new LinkDrops({ crashNoticeRate: rng.range(0.5, 1), flapRate: rng.range(0, 0.02), leaderShare: rng.range(0.3, 1) }, rng)
  }

  /** Node `dead` just crashed: the others that had a link to it hear at once. Returns a trace line, or null. */
  crashed(dead: number, nodes: readonly LinkDropNode[]): string | null {
    const told = this.tell(dead, nodes, this.params.crashNoticeRate)
    return told.length === 0 ? null : `link to n${dead} closed (crash), heard by ${told.map((id) => `n${id}`).join(' ')}`
  }

  /** Safety phase: maybe a live node's links flap. Returns a trace line, or null. */
  step(nodes: readonly LinkDropNode[]): string | null {
    if (!this.rng.chance(this.params.flapRate)) return null
    const up = nodes.filter((n) => n.up)
    const leaders = up.filter((n) => n.leading)
    const pool = leaders.length > 0 && this.rng.chance(this.params.leaderShare) ? leaders : up
    if (pool.length === 0) return null
    const peer = pool[this.rng.int(pool.length)].id
    const told = this.tell(peer, nodes, this.rng.range(0.2, 1))
    return `link to n${peer} flapped (alive), heard by ${told.length === 0 ? 'none' : told.map((id) => `n${id}`).join(' ')}`
  }

  private tell(peer: number, nodes: readonly LinkDropNode[], rate: number): number[] {
    const told: number[] = []
    for (const n of nodes) {
      if (n.id === peer || !n.up || !this.rng.chance(rate)) continue
      n.linkDown(peer)
      told.push(n.id)
      this.events++
    }
    return told
  }
}
