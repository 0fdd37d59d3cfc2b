// Real brokers in this process (src/broker/broker.ts, as `bitacora broker` runs them) sharing
// one metadata quorum over real WebSockets on loopback ports chosen free at run time: the
// voters in `--controller-voters`, any other node a broker only (an observer). For the tests of
// the quorum APIs' clients (the admin calls, `bitacora cluster`) that need a quorum to talk to,
// without the cost of processes. A node can be stopped and started again on its data dir and
// port; the test's teardown stops them all and removes their directories.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { Broker } from '../../src/broker/broker.js'
import { DEFAULT_CONFIG } from '../../src/broker/config.js'
import { parseControllerVoters } from '../../src/broker/controller/node/voter-list.js'
import { createClient, type QuorumDescription } from '../../src/client/node.js'
import { quietLog } from '../broker/controller/wait.js'
import { freePorts, until } from '../integration/quorum-nodes.js'

export { until }

export class BrokerQuorum {
  readonly clusterId = randomUUID()
  readonly brokers = new Map<number, Broker>()
  private readonly ports = new Map<number, number>()
  private readonly dirs = new Map<number, string>()

  private constructor(readonly voters: readonly number[]) {}

  /** Nodes `ids` (`voters` among them are the controller voters), none started yet. */
  static async create(t: Test, ids: readonly number[], voters: readonly number[] = ids): Promise<BrokerQuorum> {
    const q = new BrokerQuorum(voters)
    const ports = await freePorts(ids.length)
    ids.forEach((id, i) => {
      q.ports.set(id, ports[i])
      q.dirs.set(id, mkdtempSync(join(tmpdir(), `bitacora-quorum-${id}-`)))
    })
    t.teardown(async () => {
      for (const id of [...q.brokers.keys()]) await q.stop(id)
      for (const dir of q.dirs.values()) rmSync(dir, { recursive: true, force: true })
    })
    return q
  }

  get ids(): number[] {
    return [...this.ports.keys()]
  }

  url(id: number): string {
    return `ws://127.0.0.1:${this.ports.get(id)}/`
  }

  async start(id: number): Promise<Broker> {
    const broker = await Broker.start({
      ...DEFAULT_CONFIG, brokerId: id, clusterId: this.clusterId, port: this.ports.get(id)!, dataDir: this.dirs.get(id)!,
      controllerVoters: parseControllerVoters(this.voters.map((v) => `${v}@${this.url(v)}`).join(',')),
    }, quietLog)
    this.brokers.set(id, broker)
    return broker
  }

  async startAll(): Promise<void> {
    await Promise.all(this.ids.map((id) => this.start(id)))
  }

  async stop(id: number): Promise<void> {
    const broker = this.brokers.get(id)
    this.brokers.delete(id)
    await broker?.stop()
  }

  /** DescribeQuorum as a client bootstrapped from node `id` gets it (the leader's view when it can reach the leader). */
  async describe(id: number): Promise<QuorumDescription> {
    const client = createClient({ brokers: [this.url(id)], clientId: 'broker-quorum' })
    try {
      return await client.admin().describeQuorum()
    } finally {
      client.close()
    }
  }

  /**
   * Waits until the leader's DescribeQuorum shows every running node registered and unfenced and
   * every replica caught up (lag 0); resolves with that description.
   */
  async ready(timeoutMs = 30_000): Promise<QuorumDescription> {
    const running = [...this.brokers.keys()].sort((a, b) => a - b)
    return until('every running node registered, unfenced and caught up', async () => {
      const d = await this.describe(running[0])
      const replicas = [...d.voters, ...d.observers]
      const registered = running.every((id) => d.brokers.some((b) => b.id === id && !b.fenced))
      const caughtUp = d.leaderId === d.answeredBy && running.every((id) => replicas.some((r) => r.nodeId === id && r.lag === 0))
      return registered && caughtUp ? d : null
    }, timeoutMs)
  }
}
