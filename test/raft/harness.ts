// What the Raft core's scenario scripts (test/script-files.ts) run against. The cluster is the
// simulator's (same shells, same checker) with a hand-cranked FIFO network, no faults
// unless a command asks, and time that moves only on `tick`.
import { Checker } from '../../src/sim/checker.js'
import { formatLog, formatMessage, formatVoters } from '../../src/sim/format.js'
import { SIM_ENTRY_BYTES, type SimEntry, type SimLog, type SimSnapshot } from '../../src/sim/sim-log.js'
import { SimNode } from '../../src/sim/sim-node.js'
import { Prng } from '../../src/sim/prng.js'
import type { BugSwitches, Message, VoteRequest, VoterChangeResult } from '../../src/raft/types.js'

export class ScriptCluster {
  nodes: SimNode[] = []
  private queue: Message[] = []
  private readonly cut = new Set<string>()
  private checker = new Checker([])
  private violation: string | null = null
  private nextPayload = 1

  /** Runs one command and returns its output ('' if none). */
  run(command: string): string {
    const [name, ...args] = command.split(/\s+/)
    try {
      return this.dispatch(name, args)
    } catch (e) {
      const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
      return `error: ${msg}`
    }
  }

  private dispatch(name: string, args: string[]): string {
    switch (name) {
      case 'cluster':
        return this.create(args)
      case 'campaign':
        return this.each(args, (n) => n.core!.campaign())
      case 'resign':
        return this.each(args, (n) => n.core!.resign())
      case 'fence':
        return this.each(args, (n) => n.setFenced(true, 0))
      case 'unfence':
        return this.each(args, (n) => n.setFenced(false, 0))
      case 'link-down': {
        // `link-down D N...`: nodes N hear that their link to node D closed (leaderUnreachable).
        const [dead, ...who] = args
        return this.each(who, (n) => n.core!.leaderUnreachable(Number(dead)))
      }
      case 'tick': {
        const [who, countText] = args
        const count = Number(countText ?? 1)
        for (let i = 0; i < count; i++) this.each([who], (n) => n.tick(0))
        return this.checked('')
      }
      case 'propose': {
        const n = this.node(args[0])
        const payload = this.nextPayload++
        const offset = n.propose(payload, 0)
        return this.checked(offset === null ? `refused: ${describeRefusal(n)}` : `payload ${payload} at offset ${offset}`)
      }
      case 'flush':
        return this.each(args, (n) => {
          for (let i = 0; i < 100 && n.up && n.log.flushTarget !== null; i++) n.flushTick(Number.POSITIVE_INFINITY)
        })
      case 'deliver':
        return this.deliver(args[0], false)
      case 'drop':
        return this.deliver(args[0], true)
      case 'msgs':
        return this.queue.map(formatMessage).join('\n')
      case 'stabilize':
        return this.stabilize(args.includes('noflush'))
      case 'partition':
        return this.partition(args)
      case 'heal':
        this.cut.clear()
        return ''
      case 'crash':
        return this.each(args, (n) => n.crash())
      case 'restart':
        return this.each(args, (n) => n.start(0), true)
      case 'wipe':
        // A crash that loses the whole disk: the node comes back (restart) as a new replica.
        return this.each(args, (n) => {
          n.crash()
          n.wipe()
        }, true)
      case 'damage': {
        // `damage N OFFSET`: the stored entry at OFFSET of node N goes bad and a scrub finds it.
        const n = this.node(args[0])
        n.log.damage(Number(args[1]))
        n.scrub(0)
        return this.checked('')
      }
      case 'status':
        return this.nodes.map((n) => this.statusLine(n)).join('\n')
      case 'snapshot':
        return this.moveLogStart(args, (n, end) => n.takeSnapshot(end, 0))
      case 'logstart':
        return this.moveLogStart(args, (n, end) => n.advanceLogStart(end, 0))
      case 'add-voter':
        return this.checked(describeChange(this.node(args[0]).control(0, (c) => c.addVoter(Number(args[1])))))
      case 'remove-voter':
        return this.checked(describeChange(this.node(args[0]).control(0, (c) => c.removeVoter(Number(args[1])))))
      case 'transfer': {
        const r = this.node(args[0]).control(0, (c) => c.transferLeadership(Number(args[1])))
        return this.checked(r.ok ? 'transferring' : `refused: ${r.reason}`)
      }
      default:
        throw new Error(`unknown command ${name}`)
    }
  }

  /** `snapshot N [end]` / `logstart N [offset]`: node N moves its log start (default: to its HW). */
  private moveLogStart(args: string[], f: (n: SimNode, offset: number) => void): string {
    const n = this.node(args[0])
    const offset = args[1] === undefined ? n.core!.status().highWatermark : Number(args[1])
    f(n, offset)
    return this.checked(`log start ${offset}`)
  }

  private create(args: string[]): string {
    const opts = new Map(args.map((a) => a.split('=') as [string, string]))
    const voters = Number(opts.get('voters') ?? 3)
    const observers = Number(opts.get('observers') ?? 0)
    const bug = opts.get('bug')
    const directoryIds = opts.get('dirs') === 'on'
    const damage = opts.get('damage') === 'on'
    const bugs: BugSwitches | undefined = bug === undefined ? undefined : { [bug]: true }
    const config = {
      voters: Array.from({ length: voters }, (_, i) => i + 1),
      electionTimeoutTicks: 10, fetchTimeoutTicks: 20, fetchMaxWaitTicks: 4, fetchRetryTicks: 6,
      beginQuorumRetryTicks: 4, fetchMaxBytes: SIM_ENTRY_BYTES * Number(opts.get('fetchEntries') ?? 100), bugs,
      observerContacts: Array.from({ length: voters + observers }, (_, i) => i + 1),
    }
    const hooks = {
      send: (m: Message) => {
        this.guard(() => this.checker.sent(this.nodes[m.from - 1], m))()
        if (!this.cut.has(`${m.from}->${m.to}`)) this.queue.push(m)
      },
      appendedEntry: this.guard((node: number, e: SimEntry, log: SimLog) => this.checker.appendedEntry(node, e, log)),
      voteGranted: this.guard((voter: number, req: VoteRequest, le: number, end: number, dir?: string) => this.checker.voteGranted(voter, req, le, end, dir)),
      truncating: this.guard((id: number, offset: number, damage: boolean) => this.checker.truncating(this.nodes[id - 1], offset, damage)),
      damageFound: this.guard((id: number, offset: number, logEnd: number) => this.checker.damageFound(this.nodes[id - 1], offset, logEnd)),
      served: this.guard((id: number, entries: readonly SimEntry[], log: SimLog) => this.checker.served(this.nodes[id - 1], entries, log)),
      snapshot: this.guard((id: number, s: SimSnapshot, how: 'taken' | 'installed') => this.checker.snapshot(id, s, how)),
      resetting: this.guard((id: number, logStart: number, epoch: number, chain: number) => this.checker.reset(id, logStart, epoch, chain)),
    }
    this.nodes = []
    this.checker = new Checker(config.voters, this.nodes)
    this.queue = []
    this.cut.clear()
    for (let id = 1; id <= voters + observers; id++) {
      // Election timeouts are fixed (base + id - 1) so scripts count ticks exactly.
      const node = new SimNode(id, { config, flushDelayMaxTicks: 1, directoryIds, damage }, new FixedRandom(id), hooks)
      this.nodes.push(node)
    }
    for (const n of this.nodes) n.start(0)
    return ''
  }

  /** Checker failures become output lines rather than exceptions, so scripts can show them. */
  private guard<A extends unknown[]>(f: (...a: A) => void): (...a: A) => void {
    return (...a: A) => {
      try {
        f(...a)
      } catch (e) {
        this.violation ??= e instanceof Error ? e.message : String(e)
      }
    }
  }

  private checked(out: string): string {
    try {
      this.checker.afterStep(this.nodes)
    } catch (e) {
      this.violation ??= e instanceof Error ? e.message : String(e)
    }
    if (this.violation === null) return out
    const v = `checker: ${this.violation}`
    this.violation = null
    return out === '' ? v : `${out}\n${v}`
  }

  private each(args: string[], f: (n: SimNode) => void, includeDown = false): string {
    const targets = args.length === 0 || args[0] === 'all' ? this.nodes : args.map((a) => this.node(a))
    for (const n of targets) {
      if (!n.up && !includeDown) continue
      f(n)
      if (n.up) n.pump(0)
    }
    return this.checked('')
  }

  private node(text: string): SimNode {
    const n = this.nodes[Number(text) - 1]
    if (n === undefined) throw new Error(`no node ${text}`)
    return n
  }

  /** Delivers (or drops) the currently queued messages, all or on one `a->b` link. */
  private deliver(link: string | undefined, drop: boolean): string {
    const take = this.queue.filter((m) => link === undefined || `${m.from}->${m.to}` === link)
    this.queue = this.queue.filter((m) => !take.includes(m))
    const out: string[] = []
    for (const m of take) {
      const to = this.nodes[m.to - 1]
      if (drop || !to.up) {
        out.push(`dropped ${formatMessage(m)}`)
        continue
      }
      out.push(formatMessage(m))
      to.deliver(m, 0)
    }
    return this.checked(out.join('\n'))
  }

  /** Delivers messages (and, unless `noflush`, completes flushes) until nothing is left. */
  private stabilize(noflush: boolean): string {
    for (let round = 0; round < 1000; round++) {
      let progressed = false
      if (!noflush) {
        for (const n of this.nodes) {
          if (n.up && n.log.flushTarget !== null) {
            n.flushTick(Number.POSITIVE_INFINITY)
            progressed = true
          }
        }
      }
      const batch = this.queue
      this.queue = []
      for (const m of batch) {
        const to = this.nodes[m.to - 1]
        if (to.up) to.deliver(m, 0)
        progressed = true
      }
      const out = this.checked('')
      if (out !== '') return out
      if (!progressed) return ''
    }
    throw new Error('stabilize did not settle')
  }

  private partition(args: string[]): string {
    const groups = args.join(' ').split('|').map((g) => g.trim().split(/\s+/).filter((x) => x !== '').map(Number))
    this.cut.clear()
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue
        for (const x of a) for (const y of b) this.cut.add(`${x}->${y}`)
      }
    }
    return ''
  }

  private statusLine(n: SimNode): string {
    if (!n.up) return `n${n.id}: down log=[${formatLog(n.log.entries)}]`
    const s = n.core!.status()
    const kind = `${s.voter ? '' : ' observer'}${s.fenced ? ' fenced' : ''}`
    // Shown only where they say something: voter changes, log-start moves, snapshots.
    const voters = n.log.voterRecords().length > 0 ? ` voters=${formatVoters(s.voters, s.voterDirectoryIds)}` : ''
    const dir = s.directoryId !== undefined ? ` dir=${s.directoryId}` : ''
    const start = s.logStart > 0 ? ` start=${s.logStart}` : ''
    const snapshot = s.snapshot !== null ? ` snapshot=${s.snapshot.endOffset}@${s.snapshot.epoch}` : ''
    const damaged = s.damagedUntil !== null ? ` damaged<${s.damagedUntil}` : ''
    return `n${n.id}${dir}:${kind} ${s.role} e${s.epoch} voted=${s.votedFor ?? '-'} leader=${s.leaderId ?? '-'} hw=${s.highWatermark} ` +
      `flushed=${s.flushedEnd}${voters}${start}${snapshot}${damaged} log=[${formatLog(n.log.entries)}]`
  }
}

function describeChange(r: VoterChangeResult): string {
  return r.ok ? `voters ${r.voters.join(',')}` : `refused: ${r.reason}`
}

function describeRefusal(n: SimNode): string {
  const r = n.core!.propose()
  return r.ok ? 'ok' : `${r.reason}, leader=${r.leaderId ?? '-'}`
}

/** Deterministic "randomness" for scripts: node n waits n - 1 ticks beyond the base timeout. */
class FixedRandom extends Prng {
  constructor(private readonly id: number) {
    super(0)
  }

  override int(bound: number): number {
    return (this.id - 1) % bound
  }
}
