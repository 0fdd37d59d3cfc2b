// The systems a run compares, each with its producer modes (durability classes) and how to
// start its server(s): single servers, then replicated ones keeping 3 copies of each record.
// Only one system runs at a time.
import { startBitacora, type RunningServer } from './servers/bitacora.js'
import { startBitacoraCluster } from './servers/bitacora-cluster.js'
import { startNats } from './servers/nats.js'
import { startNatsCluster } from './servers/nats-cluster.js'
import { startRedis } from './servers/redis.js'
import { startRedisReplicated } from './servers/redis-replicas.js'
import type { SystemKind } from './workload.js'

/**
 * What an acknowledgement means, so only like is compared with like: on one server, nothing /
 * written (page cache) / fsynced; replicated, held by a majority or every replica (memory or
 * unsynced files) / fsynced on a majority.
 */
export type Durability = 'none' | 'written' | 'fsynced' | 'replicated' | 'replicated, fsynced'

export interface Mode {
  label: string
  durability: Durability
  /** Bitácora producer acks. */
  acks?: 0 | 1 | -1
  note: string
}

export interface SystemDef {
  name: string
  kind: SystemKind
  modes: Mode[]
  /** The mode whose topics the consumer reads and whose peak sets the end-to-end rates. */
  primary: string
  /** Copies of each record (1: a single server). */
  copies: number
  start(): Promise<RunningServer>
}

export const SYSTEMS: SystemDef[] = [
  {
    name: 'Bitácora',
    kind: 'bitacora',
    modes: [
      { label: 'acks=0', durability: 'none', acks: 0, note: 'no acknowledgement awaited' },
      { label: 'acks=1', durability: 'written', acks: 1, note: 'leader appended (flush.policy=always group-commits after)' },
      { label: 'acks=all', durability: 'fsynced', acks: -1, note: 'below the high watermark: fsynced (1 broker = the whole quorum)' },
    ],
    primary: 'acks=1',
    copies: 1,
    start: () => startBitacora(),
  },
  {
    name: 'NATS JetStream',
    kind: 'nats',
    modes: [{ label: 'file R1', durability: 'written', note: 'stored; nats-server syncs files every 2 min by default (2.9 has no per-write sync)' }],
    primary: 'file R1',
    copies: 1,
    start: () => startNats(),
  },
  {
    name: 'Redis Streams',
    kind: 'redis',
    modes: [{ label: 'AOF everysec', durability: 'written', note: 'appended to the AOF; fsync once a second' }],
    primary: 'AOF everysec',
    copies: 1,
    start: () => startRedis('everysec'),
  },
  {
    name: 'Redis Streams',
    kind: 'redis',
    modes: [{ label: 'AOF always', durability: 'fsynced', note: 'AOF fsynced before replies (once per event-loop turn)' }],
    primary: 'AOF always',
    copies: 1,
    start: () => startRedis('always'),
  },
  {
    name: 'Bitácora 3 brokers',
    kind: 'bitacora',
    modes: [
      { label: 'acks=1', durability: 'written', acks: 1, note: 'RF=3, the leader appended (the followers copy it after)' },
      { label: 'acks=all', durability: 'replicated, fsynced', acks: -1, note: 'RF=3, below the high watermark: fsynced on a majority of the 3 replicas' },
    ],
    primary: 'acks=all',
    copies: 3,
    start: () => startBitacoraCluster(3),
  },
  {
    name: 'NATS JetStream 3 servers',
    kind: 'nats',
    modes: [{ label: 'file R3', durability: 'replicated', note: 'an R3 stream: stored by a majority of the 3 servers (files; not fsynced per write)' }],
    primary: 'file R3',
    copies: 3,
    start: () => startNatsCluster(3),
  },
  {
    name: 'Redis Streams + 2 replicas',
    kind: 'redis',
    modes: [{ label: 'WAIT 2', durability: 'replicated', note: 'in memory on the primary and both replicas (WAIT 2 after each pipeline; Redis 7.0 has no WAITAOF)' }],
    primary: 'WAIT 2',
    copies: 3,
    start: () => startRedisReplicated(2),
  },
]
