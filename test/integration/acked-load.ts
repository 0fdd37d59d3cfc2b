// An acks=all load for the fault tests: one producer sends numbered records round-robin over a
// topic's partitions, a few in flight at a time, until stopped, and remembers what each
// acknowledgement said. `readBack` reads the partitions from whichever brokers are up, and
// `lostOrReordered` lists every acknowledged record that is not at the offset its acknowledgement
// gave, or whose offsets do not follow the send order. Without idempotence an unacknowledged retry
// may leave a second copy, so records are looked up by offset, and `duplicates` (every record read
// more than once) is for idempotent loads only. By default the producer keeps one request in flight
// per broker: with more and without idempotence, a retried batch may land after a later one (as
// Kafka's), and the order check would fail for that reason.
import { createClient, type Client, type Producer, type ProducerOptions, type RecordMetadata } from '../../src/client/node.js'
import type { Prng } from '../../src/sim/prng.js'
import { until, type ProcessCluster } from './quorum-nodes.js'

/** Throttled (issue 18: CI tests use a throttled producer), so a test's record count and read-back time stay bounded on a busy machine. */
const PER_SECOND_DEFAULT = 1_000

export interface ReadRecord {
  readonly partition: number
  readonly offset: number
  readonly value: string
}

export class AckedLoad {
  /** By value (`PARTITION:SEQUENCE`): what its acknowledgement said. */
  readonly acked = new Map<string, RecordMetadata>()
  /** Sends that failed for good, with the error: a fault test expects none. */
  readonly failed: string[] = []
  private stopping = false
  private readonly done: Promise<void>

  private constructor(
    private readonly client: Client,
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly partitions: number,
    private readonly inFlight: number,
    private readonly perSecond: number,
  ) {
    this.done = this.run()
  }

  static async start(brokers: readonly string[], topic: string, partitions: number, options: { inFlight?: number; perSecond?: number; producer?: ProducerOptions } = {}): Promise<AckedLoad> {
    const client = createClient({ brokers: [...brokers], clientId: `acked-load-${topic}` })
    const producer = await client.producer({ acks: 'all', lingerMs: 0, maxInFlightRequests: 1, ...options.producer })
    return new AckedLoad(client, producer, topic, partitions, options.inFlight ?? 8, options.perSecond ?? PER_SECOND_DEFAULT)
  }

  /** Resolves once `n` more records than now have been acknowledged. */
  async more(n: number, timeoutMs = 60_000): Promise<void> {
    const target = this.acked.size + n
    await until(`${target} acknowledged records (${this.acked.size} so far; failed: ${this.failed.slice(0, 3).join('; ') || 'none'})`, async () => this.acked.size >= target, timeoutMs)
  }

  /** Stops sending, waits for what is in flight, and closes the client. */
  async stop(): Promise<void> {
    this.stopping = true
    await this.done
    await this.producer.close()
    await this.client.close()
  }

  /** The highest acknowledged offset of each partition (-1: none). */
  lastOffsets(): number[] {
    const last = Array.from({ length: this.partitions }, () => -1)
    for (const m of this.acked.values()) last[m.partition] = Math.max(last[m.partition], m.offset)
    return last
  }

  private async run(): Promise<void> {
    const window = new Set<Promise<void>>()
    let due = performance.now()
    for (let seq = 0; !this.stopping; seq++) {
      // Paced from the previous send, so a stall is not followed by a burst.
      due = Math.max(due, performance.now()) + 1000 / this.perSecond
      if (due - performance.now() >= 1) await new Promise((resolve) => setTimeout(resolve, due - performance.now()))
      const partition = seq % this.partitions
      const value = `${partition}:${seq}`
      const sent: Promise<void> = this.producer.send({ topic: this.topic, partition, value }).then(
        (m) => void this.acked.set(value, m),
        (err: Error) => void this.failed.push(`${value}: ${err.message}`),
      ).finally(() => window.delete(sent))
      window.add(sent)
      if (window.size >= this.inFlight) await Promise.race(window)
    }
    await Promise.all(window)
  }
}

/** Partitions 0..lastOffsets.length-1 from the start through each one's `lastOffsets` entry, read through whichever broker leads each. */
export async function readBack(brokers: readonly string[], topic: string, lastOffsets: readonly number[], timeoutMs = 60_000): Promise<ReadRecord[]> {
  const client = createClient({ brokers: [...brokers], clientId: `read-back-${topic}` })
  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 200 })
  const wanted = lastOffsets.map((last, partition) => ({ topic, partition, last })).filter((p) => p.last >= 0)
  consumer.assign(wanted.map(({ topic, partition }) => ({ topic, partition })))
  const out: ReadRecord[] = []
  const remaining = new Set(wanted.map((p) => p.partition))
  const deadline = Date.now() + timeoutMs
  try {
    for await (const r of consumer.records()) {
      out.push({ partition: r.partition, offset: r.offset, value: new TextDecoder().decode(r.value!) })
      if (r.offset >= lastOffsets[r.partition]) remaining.delete(r.partition)
      if (remaining.size === 0) break
      if (Date.now() > deadline) throw new Error(`read back: partitions ${[...remaining].join(', ')} not read through their last acknowledged offset within ${timeoutMs} ms`)
    }
  } finally {
    consumer.close()
    await client.close()
  }
  return out
}

/** Every value read more than once, with the offsets of its copies (an idempotent producer writes each exactly once). */
export function duplicates(read: readonly ReadRecord[]): string[] {
  const seen = new Map<string, string[]>()
  for (const r of read) {
    const copies = seen.get(r.value)
    if (copies === undefined) seen.set(r.value, [`${r.partition}@${r.offset}`])
    else copies.push(`${r.partition}@${r.offset}`)
  }
  return [...seen].filter(([, at]) => at.length > 1).map(([value, at]) => `${value} at ${at.join(', ')}`)
}

/** Every acknowledged record not at the offset its acknowledgement gave, and every partition whose acknowledged offsets do not follow the send order. */
export function lostOrReordered(acked: ReadonlyMap<string, RecordMetadata>, read: readonly ReadRecord[]): string[] {
  const at = new Map(read.map((r) => [`${r.partition}@${r.offset}`, r.value]))
  const problems = [...acked]
    .filter(([value, m]) => at.get(`${m.partition}@${m.offset}`) !== value)
    .map(([value, m]) => `${value} acknowledged at ${m.partition}@${m.offset}, which holds ${at.get(`${m.partition}@${m.offset}`) ?? 'nothing'}`)
  const bySequence = [...acked].sort(([a], [b]) => Number(a.split(':')[1]) - Number(b.split(':')[1]))
  const lastOffset = new Map<number, { value: string; offset: number }>()
  for (const [value, m] of bySequence) {
    const before = lastOffset.get(m.partition)
    if (before !== undefined && m.offset <= before.offset) problems.push(`${value} at offset ${m.offset}, not after ${before.value} at ${before.offset}`)
    lastOffset.set(m.partition, { value, offset: m.offset })
  }
  return problems
}

/**
 * `kills` rounds under `load`: `recordsPerRound()` more records acknowledged, then the leader of
 * a seed-drawn partition SIGKILLed; a survivor must lead it in a newer epoch (one assertion per
 * round on `t`); the killed node is restarted and the cluster is ready again.
 */
export async function killLeadersUnderLoad(
  t: { ok(value: unknown, message: string): void }, c: ProcessCluster, load: AckedLoad, topic: string, partitions: number,
  rng: Prng, kills: number, recordsPerRound: () => number, moreTimeoutMs?: number,
): Promise<void> {
  for (let kill = 1; kill <= kills; kill++) {
    await load.more(recordsPerRound(), moreTimeoutMs)
    const partition = rng.int(partitions)
    const { leader, epoch } = await c.partitionLeader(topic, partition)
    await c.stop(leader, 'SIGKILL')
    const next = await c.partitionLeader(topic, partition, c.ids.filter((id) => id !== leader))
    t.ok(next.leader !== leader && next.epoch > epoch, `kill ${kill}: node ${leader} (leader of ${topic}/${partition}, epoch ${epoch}) → node ${next.leader} leads in epoch ${next.epoch}`)
    await c.start(leader)
    await c.ready()
  }
}
