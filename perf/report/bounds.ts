// Estimated ceilings on this machine for the producer and consumer throughput targets, from CPU
// costs measured in the same run (costs per MiB, so the record size does not enter). A
// producer's client and the broker share the machine's cores, and every MiB of records costs
// each of them at least:
//   producer  client: CRC32C (WASM) + sending the WebSocket frames (masking, the socket write)
//             broker: receiving them + CRC32C (validation) + writing the log (into the page cache),
//                     and on its thread pool the fsync (flush.policy=always, the default)
//   consumer  broker: sending the frames (reading the log is left out)
//             client: receiving them + CRC32C (verification)
// The ceiling is the rate at which the busier process's main thread, or all of it together on
// `cores`, would run out of CPU doing only that (no framing, protobuf, indexes, batching, event
// loop or kernel writeback), and never above the WebSocket limit itself. An estimate: the costs
// were measured with 64 KiB frames and one burst of writes (a VM's page-cache cost varies with
// how much free memory it has handed back), and count all bytes where the targets count values.
// Pure.
import type { PerfResults } from './types.js'

export interface Ceiling {
  MiBps: number
  /** CPU ms per MiB charged to each process's main thread, and what they are made of. */
  clientMsPerMiB: number
  brokerMsPerMiB: number
  /** CPU ms per MiB on the broker's other threads (the fsync): only the cores bound counts it. */
  offThreadMsPerMiB: number
  parts: { client: Record<string, number>; broker: Record<string, number>; offThread: Record<string, number> }
}

export interface Ceilings {
  producer?: Ceiling
  consumer?: Ceiling
}

/** A measured cost, if it is one (absent in older results; never NaN, infinite or null). */
export const cost = (v: number | undefined | null): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0

/** The CRC32C micro-benchmark's 1 MiB case (data already in WASM memory), as CPU ms per MiB. */
export function crcMsPerMiB(r: PerfResults): number | undefined {
  const row = r.micro.rows.find((x) => x.suite === 'crc32c 1024 KiB' && x.name.startsWith('wasm (data in module memory)'))
  return row && row.mbPerSec > 0 ? 1000 / ((row.mbPerSec * 1e6) / 1048576) : undefined
}

function ceiling(cores: number, wsMiBps: number, client: Record<string, number>, broker: Record<string, number>, offThread: Record<string, number> = {}): Ceiling {
  const sum = (parts: Record<string, number>) => Object.values(parts).reduce((a, b) => a + b, 0)
  const c = sum(client)
  const b = sum(broker)
  const o = sum(offThread)
  const MiBps = Math.min(wsMiBps, 1000 / c, 1000 / b, (Math.max(1, cores) * 1000) / (c + b + o))
  return { MiBps, clientMsPerMiB: c, brokerMsPerMiB: b, offThreadMsPerMiB: o, parts: { client, broker, offThread } }
}

export function ceilings(r: PerfResults): Ceilings {
  const crc = crcMsPerMiB(r)
  const up = r.limits.websocket?.bandwidthClientToServer
  const down = r.limits.websocket?.bandwidthServerToClient
  const write = r.limits.disk?.seqWriteCpuMsPerMiB
  const sync = r.limits.disk?.seqSyncCpuMsPerMiB
  const out: Ceilings = {}
  if (crc === undefined) return out
  if (up && cost(up.senderCpuMsPerMiB) && cost(up.receiverCpuMsPerMiB) && cost(write) && cost(sync)) {
    out.producer = ceiling(
      r.machine.cpus, up.MiBps, { crc, 'WebSocket send': up.senderCpuMsPerMiB }, { 'WebSocket receive': up.receiverCpuMsPerMiB, crc, 'log write': write }, { fsync: sync },
    )
  }
  if (down && cost(down.senderCpuMsPerMiB) && cost(down.receiverCpuMsPerMiB)) {
    out.consumer = ceiling(r.machine.cpus, down.MiBps, { 'WebSocket receive': down.receiverCpuMsPerMiB, crc }, { 'WebSocket send': down.senderCpuMsPerMiB })
  }
  return out
}

/** e.g. "250 MiB/s (CPU per MiB: client 1.50 ms = crc 1.00 + WebSocket send 0.50; broker 3.00 ms = ...; broker's other threads 1.00 ms = fsync 1.00)" */
export function describeCeiling(c: Ceiling): string {
  const parts = (p: Record<string, number>) => Object.entries(p).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(' + ')
  const offThread = c.offThreadMsPerMiB > 0 ? `; broker's other threads ${c.offThreadMsPerMiB.toFixed(2)} ms = ${parts(c.parts.offThread)}` : ''
  return `${c.MiBps.toFixed(0)} MiB/s (CPU per MiB: client ${c.clientMsPerMiB.toFixed(2)} ms = ${parts(c.parts.client)}; broker ${c.brokerMsPerMiB.toFixed(2)} ms = ${parts(c.parts.broker)}${offThread})`
}
