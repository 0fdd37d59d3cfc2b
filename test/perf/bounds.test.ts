import t from 'tap'
import { ceilings, crcMsPerMiB, describeCeiling } from '../../perf/report/bounds.js'
import { headlines } from '../../perf/report/markdown.js'
import type { PerfResults } from '../../perf/report/types.js'

// A run with round numbers: CRC32C at 1,048.576 MB/s = 1,000 MiB/s, i.e. 1 ms per MiB.
function results(over: { cpus?: number; crcMBps?: number; write?: number; upCpu?: [number, number]; downCpu?: [number, number] } = {}): PerfResults {
  const [upSend, upRecv] = over.upCpu ?? [0.5, 0.25]
  const [downSend, downRecv] = over.downCpu ?? [0.25, 0.5]
  return {
    date: '2026-12-02T00:00:00.000Z', quick: false, durationSeconds: 1,
    machine: { cpus: over.cpus ?? 2, cpuModel: 'test', node: 'v20', loadAvgStart: [0, 0, 0], loadAvgEnd: [0, 0, 0], nats: '', redis: '' },
    plan: { sizes: [100, 1024] } as unknown as PerfResults['plan'],
    limits: {
      websocket: {
        bufferutil: true,
        bandwidthClientToServer: { MiBps: 1000, messagesPerSec: 0, senderCpuMsPerMiB: upSend, receiverCpuMsPerMiB: upRecv },
        bandwidthServerToClient: { MiBps: 2000, messagesPerSec: 0, senderCpuMsPerMiB: downSend, receiverCpuMsPerMiB: downRecv },
        smallClientToServer: { MiBps: 1, messagesPerSec: 1 },
        smallServerToClient: { MiBps: 1, messagesPerSec: 1 },
      },
      disk: { seqWriteMiBps: 400, seqWriteCpuMsPerMiB: over.write ?? 2.25, fsyncsPerSec: 1, fsyncAvgMs: 1 },
    },
    micro: { rows: [
      { suite: 'crc32c 64 KiB', name: 'wasm (data in module memory)', opsPerSec: 1, mbPerSec: 1, marginPct: 1 },
      { suite: 'crc32c 1024 KiB', name: 'wasm (data in module memory)', opsPerSec: 1000, mbPerSec: over.crcMBps ?? 1048.576, marginPct: 1 },
    ] },
    runs: [],
  }
}

t.test('CRC cost comes from the 1 MiB WASM case, in ms per MiB', async (t) => {
  t.equal(crcMsPerMiB(results()), 1)
  t.equal(crcMsPerMiB(results({ crcMBps: 2097.152 })), 0.5)
  const none = results()
  none.micro.rows = none.micro.rows.filter((r) => r.suite !== 'crc32c 1024 KiB')
  t.equal(crcMsPerMiB(none), undefined)
})

t.test('producer: the broker writes the log, so it is the busier process and sets the ceiling', async (t) => {
  const c = ceilings(results()).producer!
  t.equal(c.clientMsPerMiB, 1.5) // crc 1 + send 0.5
  t.equal(c.brokerMsPerMiB, 3.5) // receive 0.25 + crc 1 + write 2.25
  t.equal(c.MiBps, 1000 / 3.5)
  t.same(c.parts.broker, { 'WebSocket receive': 0.25, crc: 1, 'log write': 2.25 })
})

t.test('consumer: the client verifies CRCs and receives', async (t) => {
  const c = ceilings(results()).consumer!
  t.equal(c.clientMsPerMiB, 1.5)
  t.equal(c.brokerMsPerMiB, 0.25)
  t.equal(c.MiBps, 1000 / 1.5)
})

t.test('on one core both processes share it: the sum of their costs bounds the rate', async (t) => {
  const c = ceilings(results({ cpus: 1 })).producer!
  t.equal(c.MiBps, 1000 / 5)
})

t.test('results without CPU costs (written before they were measured) give no ceiling', async (t) => {
  const old = results()
  delete old.limits.disk!.seqWriteCpuMsPerMiB
  delete old.limits.websocket!.bandwidthServerToClient.receiverCpuMsPerMiB
  t.same(ceilings(old), {})
  old.micro.rows = []
  t.same(ceilings(old), {})
})

t.test('the targets table shows each 1 KiB ceiling as a share of its WebSocket limit', async (t) => {
  const rows = headlines(results())
  const producer = rows.find((h) => h.target.startsWith('producer, 1 KiB'))!
  const consumer = rows.find((h) => h.target.startsWith('consumer, 1 KiB'))!
  t.match(producer.ceiling, /^29 %: 286 MiB\/s \(CPU per MiB: client 1\.50 ms = crc 1\.00 \+ WebSocket send 0\.50; broker 3\.50 ms = /)
  t.match(consumer.ceiling, /^33 %: 667 MiB\/s/)
  t.equal(rows.find((h) => h.target.startsWith('producer, 100 B'))!.ceiling, undefined)
  t.equal(describeCeiling(ceilings(results()).consumer!), '667 MiB/s (CPU per MiB: client 1.50 ms = WebSocket receive 0.50 + crc 1.00; broker 0.25 ms = WebSocket send 0.25)')
})
