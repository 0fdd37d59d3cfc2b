// The chaos tool's clients and what they saw: one acks=all producer (throttled, one request in
// flight per broker so a retried batch cannot overtake a later one) writing `p<partition>-<seq>`
// to every partition in turn, and one consumer reading every partition as it goes. Every send,
// acknowledgement, failure and read is recorded for the checks (checks.ts).
import { createClient, type Client } from '../../src/client/node.js'
import { PRODUCER_DELIVERY_TIMEOUT_MS, PRODUCER_IDEMPOTENT_IN_FLIGHT_MAX, PRODUCER_IN_FLIGHT_MAX, PRODUCER_RECORDS_PER_S } from './limits.js'

export interface Ack {
  readonly value: string
  readonly partition: number
  readonly seq: number
  readonly offset: number
}

export interface Read {
  readonly partition: number
  readonly offset: number
  readonly value: string
}

export interface History {
  /** Every value sent (acknowledged or not). */
  readonly sent: Set<string>
  readonly acks: Ack[]
  /** Sends that failed (they may still have been appended: not a violation). */
  failed: number
  /** What the live consumer read, in the order it read it. */
  readonly reads: Read[]
  /** Errors the live consumer's iterator threw (it is restarted at its position). */
  consumerRestarts: number
}

export const valueOf = (partition: number, seq: number) => `p${partition}-${seq}`

export class Workload {
  readonly history: History = { sent: new Set(), acks: [], failed: 0, reads: [], consumerRestarts: 0 }
  private stopping = false
  private producing: Promise<void> | null = null
  private consuming: Promise<void> | null = null
  private readonly clients: Client[] = []

  constructor(
    private readonly brokers: readonly string[], readonly topic: string, readonly partitions: number,
    /** The idempotent producer, five requests in flight (--idempotent); else one in flight, idempotence off. */
    private readonly idempotent = false,
    /** Records per second offered (--rate). */
    private readonly recordsPerS = PRODUCER_RECORDS_PER_S,
  ) {}

  start(): void {
    this.producing = this.produce()
    this.consuming = this.consume()
  }

  /** Stops sending, waits for every send to be answered (or time out) and the consumer to stop. */
  async stop(): Promise<void> {
    this.stopping = true
    await this.producing
    await this.consuming
    await Promise.all(this.clients.map((c) => c.close()))
  }

  private client(id: string): Client {
    const c = createClient({ brokers: this.brokers, clientId: id, requestTimeoutMs: 10_000 })
    this.clients.push(c)
    return c
  }

  private async produce(): Promise<void> {
    const producer = await this.client('chaos-producer').producer({
      acks: 'all', lingerMs: 5, deliveryTimeoutMs: PRODUCER_DELIVERY_TIMEOUT_MS,
      ...(this.idempotent ? { idempotent: true, maxInFlightRequests: PRODUCER_IDEMPOTENT_IN_FLIGHT_MAX } : { idempotent: false, maxInFlightRequests: 1 }),
    })
    const seqs = new Array<number>(this.partitions).fill(0)
    const inFlight = new Set<Promise<void>>()
    const inFlightMax = Math.max(PRODUCER_IN_FLIGHT_MAX, Math.ceil(this.recordsPerS / 10))
    const started = Date.now()
    for (let i = 0; !this.stopping; i++) {
      const partition = i % this.partitions
      const seq = seqs[partition]++
      const value = valueOf(partition, seq)
      this.history.sent.add(value)
      const sent: Promise<void> = producer.send({ topic: this.topic, partition, value }).then(
        (m) => void this.history.acks.push({ value, partition, seq, offset: m.offset }),
        () => void this.history.failed++,
      ).finally(() => inFlight.delete(sent))
      inFlight.add(sent)
      if (inFlight.size >= inFlightMax) await Promise.race(inFlight)
      // Paced against the start, not per record: a timer's millisecond floor would cap the rate at ~1,000/s.
      const aheadMs = started + ((i + 1) * 1000) / this.recordsPerS - Date.now()
      if (aheadMs >= 1) await new Promise((resolve) => setTimeout(resolve, aheadMs))
      else if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve)) // behind: still let answers in
    }
    await Promise.all(inFlight)
    await producer.close()
  }

  private async consume(): Promise<void> {
    const positions = new Map<number, number>()
    const client = this.client('chaos-consumer')
    while (!this.stopping) {
      const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 200 })
      consumer.assign([...Array(this.partitions).keys()].map((partition) => ({ topic: this.topic, partition })))
      for (const [partition, next] of positions) consumer.seek(this.topic, partition, next)
      const stopper = setInterval(() => this.stopping && consumer.close(), 100)
      try {
        for await (const r of consumer.records()) {
          this.history.reads.push({ partition: r.partition, offset: r.offset, value: r.value === null ? '<null>' : new TextDecoder().decode(r.value) })
          positions.set(r.partition, r.offset + 1)
          if (this.stopping) break
        }
      } catch {
        this.history.consumerRestarts++
      } finally {
        clearInterval(stopper)
        consumer.close()
      }
    }
  }
}

/** Every partition read from its start up to (not including) `ends[p]`, on a fresh client; the record at `ends[p] - 1` must be a data record. */
export async function readBack(brokers: readonly string[], topic: string, ends: readonly number[], timeoutMs: number): Promise<Read[]> {
  const client = createClient({ brokers, clientId: 'chaos-read-back', requestTimeoutMs: 10_000 })
  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 200 })
  const wanted = ends.map((end, partition) => ({ partition, end })).filter((p) => p.end > 0)
  consumer.assign(wanted.map((p) => ({ topic, partition: p.partition })))
  const out: Read[] = []
  const done = new Set<number>()
  const timer = setTimeout(() => consumer.close(), timeoutMs)
  try {
    for await (const r of consumer.records()) {
      if (r.offset >= ends[r.partition]) continue
      out.push({ partition: r.partition, offset: r.offset, value: r.value === null ? '<null>' : new TextDecoder().decode(r.value) })
      // `ends[p] - 1` is a data record (the last acknowledged), so the consumer yields it.
      if (r.offset === ends[r.partition] - 1) done.add(r.partition)
      if (done.size === wanted.length) break
    }
  } finally {
    clearTimeout(timer)
    consumer.close()
    await client.close()
  }
  for (const p of wanted) if (!done.has(p.partition)) throw new Error(`read-back of ${topic}/${p.partition} did not reach offset ${p.end} within ${timeoutMs} ms`)
  return out
}
