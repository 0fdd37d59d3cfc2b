// Ceilings on this machine for the 1 KiB targets, from CPU costs measured in the same run. A
// producer's client and broker share the machine's cores, and every MiB of records costs each
// of them at least:
//   producer  client: CRC32C (WASM) + sending the WebSocket frames (masking, the socket write)
//            broker: receiving them + CRC32C (validation) + writing the log (the page cache)
//   consumer  broker: sending the frames (reading the log is left out)
//            client: receiving them + CRC32C (verification)
// The ceiling is the rate at which the busier process, or both together on `cores`, would run
// out of CPU if they did nothing else: no framing, protobuf, indexes, batching or event loop.
// Real figures are lower; the gap between the two is what the code can still win. Pure.
import type { PerfResults } from './types.js'

export interface Ceiling {
  MiBps: number
  /** CPU ms per MiB charged to each process, and what they are made of. */
  clientMsPerMiB: number
  brokerMsPerMiB: number
  parts: { client: Record<string, number>; broker: Record<string, number> }
}

export interface Ceilings {
  producer?: Ceiling
  consumer?: Ceiling
}

/** The CRC32C micro-benchmark's 1 MiB case (data already in WASM memory), as CPU ms per MiB. */
export function crcMsPerMiB(r: PerfResults): number | undefined {
  const row = r.micro.rows.find((x) => x.suite === 'crc32c 1024 KiB' && x.name.startsWith('wasm (data in module memory)'))
  return row && row.mbPerSec > 0 ? 1000 / ((row.mbPerSec * 1e6) / 1048576) : undefined
}

function ceiling(cores: number, client: Record<string, number>, broker: Record<string, number>): Ceiling {
  const sum = (parts: Record<string, number>) => Object.values(parts).reduce((a, b) => a + b, 0)
  const c = sum(client)
  const b = sum(broker)
  const MiBps = Math.min(1000 / c, 1000 / b, (Math.max(1, cores) * 1000) / (c + b))
  return { MiBps, clientMsPerMiB: c, brokerMsPerMiB: b, parts: { client, broker } }
}

export function ceilings(r: PerfResults): Ceilings {
  const crc = crcMsPerMiB(r)
  const up = r.limits.websocket?.bandwidthClientToServer
  const down = r.limits.websocket?.bandwidthServerToClient
  const write = r.limits.disk?.seqWriteCpuMsPerMiB
  const out: Ceilings = {}
  // Results written before these costs were measured have no CPU figures: no ceiling then.
  if (crc === undefined) return out
  if (up?.senderCpuMsPerMiB !== undefined && up.receiverCpuMsPerMiB !== undefined && write !== undefined) {
    out.producer = ceiling(r.machine.cpus, { crc, 'WebSocket send': up.senderCpuMsPerMiB }, { 'WebSocket receive': up.receiverCpuMsPerMiB, crc, 'log write': write })
  }
  if (down?.senderCpuMsPerMiB !== undefined && down.receiverCpuMsPerMiB !== undefined) {
    out.consumer = ceiling(r.machine.cpus, { 'WebSocket receive': down.receiverCpuMsPerMiB, crc }, { 'WebSocket send': down.senderCpuMsPerMiB })
  }
  return out
}

/** "≤ 292 MiB/s (client 1.15 ms/MiB: crc 0.60 + ...; broker ...)" */
export function describeCeiling(c: Ceiling): string {
  const parts = (p: Record<string, number>) => Object.entries(p).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(' + ')
  return `${c.MiBps.toFixed(0)} MiB/s (CPU per MiB: client ${c.clientMsPerMiB.toFixed(2)} ms = ${parts(c.parts.client)}; broker ${c.brokerMsPerMiB.toFixed(2)} ms = ${parts(c.parts.broker)})`
}
