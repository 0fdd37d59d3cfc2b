// The systems a run compares, each with its producer modes (durability classes) and how to
// start its server. Only one server runs at a time.
import { startBitacora, type RunningServer } from './servers/bitacora.js'
import { startNats } from './servers/nats.js'
import { startRedis } from './servers/redis.js'
import type { SystemKind } from './workload.js'

/** What an acknowledgement means, so only like is compared with like. */
export type Durability = 'none' | 'written' | 'fsynced'

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
    start: () => startBitacora(),
  },
  {
    name: 'NATS JetStream',
    kind: 'nats',
    modes: [{ label: 'file R1', durability: 'written', note: 'stored; nats-server syncs files every 2 min by default (2.9 has no per-write sync)' }],
    primary: 'file R1',
    start: () => startNats(),
  },
  {
    name: 'Redis Streams',
    kind: 'redis',
    modes: [{ label: 'AOF everysec', durability: 'written', note: 'appended to the AOF; fsync once a second' }],
    primary: 'AOF everysec',
    start: () => startRedis('everysec'),
  },
  {
    name: 'Redis Streams',
    kind: 'redis',
    modes: [{ label: 'AOF always', durability: 'fsynced', note: 'AOF fsynced before replies (once per event-loop turn)' }],
    primary: 'AOF always',
    start: () => startRedis('always'),
  },
]
