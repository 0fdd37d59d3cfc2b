// A script-driven harness for the controller's pure decisions (src/broker/controller/), in the
// manner of test/raft/harness.ts: each command runs one decision against a simulated metadata
// log (one record per offset; `commit` moves the high watermark) and prints the answer and the
// records appended. Time moves only on `tick` and `at=`. Ids print as aliases: topics t1, t2, …
// in order of creation; incarnations and directories as the script names them (default i<ID>,
// d<ID>).
//
//   config lease=9000 partitions=1 rf=1 partitions-max=1024 topics-max=10000 block=1000
//   elect                              a controller takes over from the committed image
//   register ID URL [rack=R] [inc=I] [dir=D]
//   heartbeat ID [inc=I] [offset=N]    offset: what the broker replayed (default: the HW)
//   tick MS                            time passes; expired leases are fenced
//   create NAME... [partitions=N] [rf=R] [K=V ...] [validate]
//   delete NAME...
//   alter NAME [K=V ...] [-K ...] [validate]    -K resets K
//   report TOPIC/P=LEADER@EPOCH[:ISR] ...    TOPIC: a name, or an alias (t1) for deleted topics; ISR: 1,2,3
//   producer-ids ID [inc=I]
//   commit [N]                         the first N pending batches (default all) commit
//   image [committed] | leases
// Every command takes at=MS (the clock moves forward to MS first).
import { MetadataImage, type MetadataRecord } from '../../../src/metadata/image.js'
import { formatImage, formatRecord } from '../../../src/metadata/format.js'
import { expireLeases, heartbeat, register } from '../../../src/broker/controller/decisions/membership.js'
import { allocateProducerIds, reportLeaders, type LeaderReport } from '../../../src/broker/controller/decisions/reports.js'
import { ControllerState, type ControllerConfig, type Decision, type DecisionContext } from '../../../src/broker/controller/decisions/state.js'
import { alterConfigs, createTopics, deleteTopics, type TopicOutcome } from '../../../src/broker/controller/decisions/topic-decisions.js'
import { errorName } from '../../../src/protocol/index.js'


const DEFAULT_CONFIG: ControllerConfig = {
  leaseMs: 9000, defaultPartitions: 1, defaultReplicationFactor: 1, partitionsPerTopicMax: 1024, topicsMax: 10_000, producerIdBlockSize: 1000,
}

export class ControllerScript {
  private config = DEFAULT_CONFIG
  private state: ControllerState | null = null
  /** The committed image, as every node replays it. */
  private committed = MetadataImage.EMPTY
  private pending: Array<{ startOffset: number; records: readonly MetadataRecord[] }> = []
  private highWatermark = 0
  private logEnd = 0
  private nowMs = 0
  private readonly hexByAlias = new Map<string, string>()
  private readonly aliasByHex = new Map<string, string>()
  private topicCount = 0

  run(command: string): string {
    const [name, ...rest] = command.split(/\s+/)
    const args = rest.filter((a) => !a.startsWith('at='))
    const at = rest.find((a) => a.startsWith('at='))
    try {
      if (at) this.advanceTo(Number(at.slice(3)))
      return this.aliased(this.dispatch(name, args))
    } catch (e) {
      return `error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`
    }
  }

  private dispatch(name: string, args: string[]): string {
    const { positional, options } = parseArgs(args)
    switch (name) {
      case 'config':
        return this.configure(options)
      case 'elect':
        return this.elect()
      case 'register':
        return this.decide(register(this.controller(), {
          brokerId: Number(positional[0]), url: positional[1] ?? '', rack: options.get('rack') ?? '',
          incarnationId: this.id(options.get('inc') ?? `i${positional[0]}`), directoryId: this.id(options.get('dir') ?? `d${positional[0]}`),
        }, this.ctx()), (a) => (a.fenced ? 'fenced' : 'unfenced'))
      case 'heartbeat':
        return this.decide(heartbeat(this.controller(), {
          brokerId: Number(positional[0]), incarnationId: this.id(options.get('inc') ?? `i${positional[0]}`),
          metadataOffset: Number(options.get('offset') ?? this.highWatermark),
        }, this.ctx()), (a) => (a.fenced ? 'fenced' : 'unfenced'))
      case 'tick':
        this.advanceTo(this.nowMs + Number(positional[0]))
        return this.decide(expireLeases(this.controller(), this.ctx()), (ids) => (ids.length > 0 ? `fenced ${ids.join(', ')}` : ''))
      case 'create':
        return this.decide(createTopics(this.controller(), {
          topics: positional.map((topic) => ({
            name: topic, partitions: Number(options.get('partitions') ?? 0), replicationFactor: Number(options.get('rf') ?? 0),
            configs: Object.fromEntries([...options].filter(([k]) => k.includes('.'))),
          })),
          validateOnly: options.has('validate'),
        }, this.ctx()), outcomes)
      case 'delete':
        return this.decide(deleteTopics(this.controller(), { names: positional }, this.ctx()), outcomes)
      case 'alter':
        return this.decide(alterConfigs(this.controller(), {
          changes: [{
            topic: positional[0], set: Object.fromEntries([...options].filter(([k]) => k.includes('.'))),
            reset: positional.slice(1).filter((a) => a.startsWith('-')).map((a) => a.slice(1)),
          }],
          validateOnly: options.has('validate'),
        }, this.ctx()), outcomes)
      case 'report':
        return this.decide(reportLeaders(this.controller(), positional.map((r) => this.report(r)), this.ctx()), (a) =>
          [`recorded ${a.recorded}`, ...a.ignored.map((i) => `ignored ${i.report.topicId}/${i.report.partition}=${i.report.leader}@${i.report.leaderEpoch}${i.report.isr ? `:${i.report.isr.join(",")}` : ""}: ${i.reason}`)].join('\n'))
      case 'producer-ids':
        return this.decide(allocateProducerIds(this.controller(), {
          brokerId: Number(positional[0]), incarnationId: this.id(options.get('inc') ?? `i${positional[0]}`),
        }, this.ctx()), (a) => `ids ${a.firstId}..${a.firstId + a.size - 1}`)
      case 'commit':
        return this.commit(positional[0] === undefined ? this.pending.length : Number(positional[0]))
      case 'image':
        return formatImage(positional[0] === 'committed' ? this.committed : this.controller().latest).join('\n')
      case 'leases':
        return this.controller().latest.brokers.map((b) => {
          const lease = this.controller().lease(b.brokerId)
          return `broker ${b.brokerId}: until ${lease?.expiresAtMs} catch-up ${lease?.catchUpOffset}`
        }).join('\n')
      default:
        throw new Error(`unknown command ${name}`)
    }
  }

  private configure(options: Map<string, string>): string {
    const n = (key: string, fallback: number) => Number(options.get(key) ?? fallback)
    const c = this.config
    this.config = {
      leaseMs: n('lease', c.leaseMs), defaultPartitions: n('partitions', c.defaultPartitions), defaultReplicationFactor: n('rf', c.defaultReplicationFactor),
      partitionsPerTopicMax: n('partitions-max', c.partitionsPerTopicMax), topicsMax: n('topics-max', c.topicsMax), producerIdBlockSize: n('block', c.producerIdBlockSize),
    }
    return ''
  }

  /** A controller takes over: what was not committed is lost (the new leader's log ends at the HW). */
  private elect(): string {
    const lost = this.pending.reduce((n, b) => n + b.records.length, 0)
    this.pending = []
    this.logEnd = this.highWatermark
    this.state = ControllerState.elected(this.config, this.committed, this.highWatermark, this.nowMs)
    return `elected at offset ${this.highWatermark}${lost > 0 ? `; ${lost} uncommitted records lost` : ''}`
  }

  private decide<A>(d: Decision<A>, describe: (answer: A) => string): string {
    if (!d.ok) return `refused: ${errorName(d.error.code)}: ${d.error.message}`
    const lines = [describe(d.answer)].filter((l) => l !== '')
    if (d.records.length > 0) {
      this.pending.push({ startOffset: this.logEnd, records: d.records })
      d.records.forEach((r, i) => lines.push(`@${this.logEnd + i} ${formatRecord(r)}`))
      this.logEnd += d.records.length
    }
    this.state = d.next
    return lines.join('\n')
  }

  private commit(batches: number): string {
    const done = this.pending.splice(0, batches)
    if (done.length === 0) return `nothing to commit (high watermark ${this.highWatermark})`
    this.committed = this.committed.apply(done.flatMap((b) => b.records))
    const last = done.at(-1)!
    this.highWatermark = last.startOffset + last.records.length
    this.state = this.controller().committedTo(this.highWatermark)
    const agrees = formatImage(this.state.committed).join('\n') === formatImage(this.committed).join('\n')
    if (!agrees) throw new Error("the controller's committed image differs from the replayed one")
    return `committed up to offset ${this.highWatermark}`
  }

  private report(text: string): LeaderReport {
    const m = /^([^/]+)\/(\d+)=(-?\d+)@(\d+)(?::([\d,]+))?$/.exec(text)
    if (!m) throw new Error(`a report is TOPIC/PARTITION=LEADER@EPOCH[:ISR], got ${text}`)
    const topicId = this.hexByAlias.get(m[1]) ?? this.controller().latest.topic(m[1])?.id ?? this.id(m[1])
    const isr = m[5] === undefined ? {} : { isr: m[5].split(',').map(Number) }
    return { topicId, partition: Number(m[2]), leader: Number(m[3]), leaderEpoch: Number(m[4]), ...isr }
  }

  private ctx(): DecisionContext {
    return {
      nowMs: this.nowMs,
      logEnd: this.logEnd,
      newUuid: () => this.id(`t${++this.topicCount}`),
    }
  }

  private controller(): ControllerState {
    if (!this.state) throw new Error('no controller: run elect first')
    return this.state
  }

  private advanceTo(ms: number): void {
    if (!(ms >= this.nowMs)) throw new Error(`time moves forward only: at ${this.nowMs}, asked for ${ms}`)
    this.nowMs = ms
  }

  /** The hex id an alias stands for (a new one for a new alias). */
  private id(alias: string): string {
    let hex = this.hexByAlias.get(alias)
    if (hex === undefined) {
      hex = (this.hexByAlias.size + 1).toString(16).padStart(32, '0')
      this.hexByAlias.set(alias, hex)
      this.aliasByHex.set(hex, alias)
    }
    return hex
  }

  private aliased(text: string): string {
    return text.replace(/[0-9a-f]{32}/g, (hex) => this.aliasByHex.get(hex) ?? hex)
  }
}

function outcomes(list: readonly TopicOutcome[]): string {
  return list.map((o) => (o.error ? `${o.name}: ${errorName(o.error.code)}: ${o.error.message}` : `${o.name}: ok${o.topicId ? ` id=${o.topicId}` : ''}`)).join('\n')
}

function parseArgs(args: string[]): { positional: string[]; options: Map<string, string> } {
  const positional: string[] = []
  const options = new Map<string, string>()
  for (const a of args) {
    const eq = a.indexOf('=')
    if (a === 'validate') options.set('validate', '')
    else if (eq > 0 && !a.includes('/')) options.set(a.slice(0, eq), a.slice(eq + 1))
    else positional.push(a)
  }
  return { positional, options }
}
