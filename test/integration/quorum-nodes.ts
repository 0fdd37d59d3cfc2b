// A cluster of real broker processes sharing one metadata quorum: each node on a loopback port
// chosen free at run time, all with the same --cluster-id and --controller-voters, each stopped
// by the test's teardown (broker-process.ts). Helpers ask every node's Metadata and wait for
// conditions, never for a fixed time.
import { randomUUID } from 'node:crypto'
import { createServer, type AddressInfo, type Server } from 'node:net'
import type { Response } from '../../src/protocol/index.js'
import type { bitacora } from '../../src/protocol/index.js'
import { connect, startBroker, tempDataDir, type BrokerProcess } from './broker-process.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

/** `n` loopback ports free right now (held open together, so they differ, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = []
  for (let i = 0; i < n; i++) {
    const s = createServer()
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
    servers.push(s)
  }
  const ports = servers.map((s) => (s.address() as AddressInfo).port)
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return ports
}

/** Waits for `condition` (polled every 50 ms); fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, condition: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown = null
  for (;;) {
    try {
      const v = await condition()
      if (v !== null && v !== undefined && v !== false) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export class ProcessCluster {
  readonly clusterId = randomUUID()
  readonly ports = new Map<number, number>()
  readonly dataDirs = new Map<number, string>()
  readonly processes = new Map<number, BrokerProcess>()
  /** Flags for one node only (after the shared ones), e.g. its --rack. */
  readonly nodeArgs = new Map<number, readonly string[]>()

  private constructor(
    private readonly t: Teardown,
    readonly voters: readonly number[],
    private readonly extraArgs: readonly string[],
  ) {}

  /** Ports and data directories for `ids` (the voters: `voters`); nothing started yet. */
  static async create(t: Teardown, ids: readonly number[], voters: readonly number[] = ids, extraArgs: readonly string[] = []): Promise<ProcessCluster> {
    const c = new ProcessCluster(t, voters, extraArgs)
    const ports = await freePorts(ids.length)
    ids.forEach((id, i) => {
      c.ports.set(id, ports[i])
      c.dataDirs.set(id, tempDataDir(t))
    })
    return c
  }

  get ids(): number[] {
    return [...this.ports.keys()]
  }

  url(id: number): string {
    return `ws://127.0.0.1:${this.ports.get(id)}/`
  }

  get votersFlag(): string {
    return this.voters.map((id) => `${id}@${this.url(id)}`).join(',')
  }

  async start(id: number): Promise<BrokerProcess> {
    const p = await startBroker(this.t, {
      dataDir: this.dataDirs.get(id),
      args: ['--port', String(this.ports.get(id)), '--id', String(id), '--cluster-id', this.clusterId, '--controller-voters', this.votersFlag, ...this.extraArgs, ...(this.nodeArgs.get(id) ?? [])],
    })
    this.processes.set(id, p)
    return p
  }

  /** Starts every node, and waits until each is a registered, unfenced broker (as ./cluster.sh up does). */
  async startAll(): Promise<void> {
    await Promise.all(this.ids.map((id) => this.start(id)))
    await this.ready()
  }

  /** Waits until every node of `ids` lists each of them as a registered, unfenced broker. */
  async ready(ids: readonly number[] = [...this.processes.keys()], timeoutMs = 60_000): Promise<void> {
    await until(`brokers ${ids.join(', ')} to be registered and unfenced on each of them`, async () => {
      for (const id of ids) {
        const brokers = (await this.metadata(id)).brokers ?? []
        if (!ids.every((b) => brokers.some((x) => x.id === b && !x.fenced))) return false
      }
      return true
    }, timeoutMs)
  }

  /** The brokers node `id` lists, as "ID fenced|unfenced", by id. */
  async brokers(id: number): Promise<string[]> {
    return ((await this.metadata(id)).brokers ?? []).map((b) => `${b.id} ${b.fenced ? 'fenced' : 'unfenced'}`)
  }

  /** SIGKILL (a crash) or SIGTERM (a clean stop), and wait for the exit. */
  async stop(id: number, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    await this.processes.get(id)?.stop(signal)
    this.processes.delete(id)
  }

  signal(id: number, signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.processes.get(id)!.child.kill(signal)
  }

  /** One request on a fresh connection to node `id`. */
  async call(id: number, body: Parameters<Awaited<ReturnType<typeof connect>>['call']>[0]): Promise<Response> {
    const c = await connect(this.url(id))
    try {
      return await c.call(body)
    } finally {
      c.close()
    }
  }

  async metadata(id: number, topics: string[] = []): Promise<bitacora.IMetadataResponse> {
    return (await this.call(id, { metadata: { topics } })).metadata!
  }

  async createTopic(id: number, name: string, partitions = 1, timeoutMs = 10_000): Promise<bitacora.ITopicResult> {
    return (await this.call(id, { createTopics: { topics: [{ name, partitions }], timeoutMs } })).createTopics!.topics![0]
  }

  /** The controller every node in `ids` names, once they agree on one of `ids`. */
  controller(ids: readonly number[] = [...this.processes.keys()], timeoutMs = 30_000): Promise<number> {
    return until(`nodes ${ids.join(', ')} to name one controller among them`, async () => {
      const named = await Promise.all(ids.map(async (id) => (await this.metadata(id)).controllerId ?? -1))
      return named.every((c) => c === named[0]) && ids.includes(named[0]) ? named[0] : null
    }, timeoutMs)
  }

  /** The leader (and its epoch) every node of `among` names for a partition, once they agree on one of `among`. */
  partitionLeader(topic: string, partition: number, among: readonly number[] = [...this.processes.keys()], timeoutMs?: number): Promise<{ leader: number; epoch: number }> {
    return until(`nodes ${among.join(', ')} to name one of them as the leader of ${topic}/${partition}`, async () => {
      const named = await Promise.all(among.map(async (id) => (await this.metadata(id, [topic])).topics![0].partitions?.[partition]))
      const [first] = named
      const agree = first !== undefined && among.includes(first.leaderId ?? -1) && named.every((p) => p?.leaderId === first.leaderId && p?.leaderEpoch === first.leaderEpoch)
      return agree ? { leader: first.leaderId!, epoch: first.leaderEpoch! } : null
    }, timeoutMs)
  }

  /** Topics as node `id` answers them: name, id and each partition's replicas. */
  async topics(id: number): Promise<string[]> {
    const m = await this.metadata(id)
    return (m.topics ?? [])
      .map((t) => `${t.name} ${Buffer.from(t.topicId ?? []).toString('hex')} ${(t.partitions ?? []).map((p) => `[${(p.replicas ?? []).join(',')}]`).join('')}`)
      .sort()
  }
}
