import t from 'tap'
import { ceilings, crcMsPerMiB, describeCeiling } from '../../perf/report/bounds.js'
import { headlines, markdown } from '../../perf/report/markdown.js'
import { planFor } from '../../perf/plan.js'
import type { PerfResults } from '../../perf/report/types.js'

// A run with round numbers: CRC32C at 1,048.576 MB/s = 1,000 MiB/s, i.e. 1 ms per MiB.
function results(over: { cpus?: number; crcMBps?: number; write?: number; sync?: number; upCpu?: [number, number]; downCpu?: [number, number] } = {}): PerfResults {
  // Four distinct costs, so taking one direction's (or end's) figure for another shows.
  const [upSend, upRecv] = over.upCpu ?? [0.5, 0.25]
  const [downSend, downRecv] = over.downCpu ?? [0.125, 0.75]
  return {
    date: '2026-12-02T00:00:00.000Z', quick: false, durationSeconds: 1,
    machine: { cpus: over.cpus ?? 2, cpuModel: 'test', node: 'v20', loadAvgStart: [0, 0, 0], loadAvgEnd: [0, 0, 0], nats: '', redis: '' },
    plan: planFor(false),
    limits: {
      websocket: {
        bufferutil: true,
        bandwidthClientToServer: { MiBps: 1000, messagesPerSec: 0, senderCpuMsPerMiB: upSend, receiverCpuMsPerMiB: upRecv },
        bandwidthServerToClient: { MiBps: 2000, messagesPerSec: 0, senderCpuMsPerMiB: downSend, receiverCpuMsPerMiB: downRecv },
        smallClientToServer: { MiBps: 1, messagesPerSec: 1 },
        smallServerToClient: { MiBps: 1, messagesPerSec: 1 },
      },
      disk: { seqWriteMiBps: 400, seqWriteCpuMsPerMiB: over.write ?? 2.25, seqSyncCpuMsPerMiB: over.sync ?? 0.5, fsyncsPerSec: 1, fsyncAvgMs: 1 },
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
  t.equal(c.offThreadMsPerMiB, 0.5)
  t.equal(c.MiBps, 1000 / 3.5) // 2 cores for 1.5 + 3.5 + 0.5 would allow 364
  t.same(c.parts.broker, { 'WebSocket receive': 0.25, crc: 1, 'log write': 2.25 })
})

t.test("the fsync runs on the broker's thread pool: it counts only against the cores", async (t) => {
  const c = ceilings(results({ sync: 3 })).producer!
  t.equal(c.brokerMsPerMiB, 3.5)
  t.equal(c.MiBps, 2000 / (1.5 + 3.5 + 3))
})

t.test('consumer: the client verifies CRCs and receives', async (t) => {
  const c = ceilings(results()).consumer!
  t.equal(c.clientMsPerMiB, 1.75) // receive 0.75 + crc 1
  t.equal(c.brokerMsPerMiB, 0.125)
  t.equal(c.MiBps, 1000 / 1.75)
})

t.test('a ceiling never exceeds the WebSocket limit it is a share of', async (t) => {
  const c = ceilings(results({ crcMBps: 1048.576 * 100, downCpu: [0.01, 0.01] })).consumer!
  t.equal(c.MiBps, 2000)
})

t.test('on one core both processes share it: the sum of their costs bounds the rate', async (t) => {
  const c = ceilings(results({ cpus: 1 })).producer!
  t.equal(c.MiBps, 1000 / 5.5)
})

t.test('a cost that is missing (older results) or not a number gives no ceiling for what needs it', async (t) => {
  const noWrite = results()
  delete noWrite.limits.disk!.seqWriteCpuMsPerMiB
  t.equal(ceilings(noWrite).producer, undefined)
  t.ok(ceilings(noWrite).consumer, 'the consumer needs no write cost')
  const noSync = results()
  delete noSync.limits.disk!.seqSyncCpuMsPerMiB
  t.equal(ceilings(noSync).producer, undefined)
  const noDown = results()
  ;(noDown.limits.websocket!.bandwidthServerToClient as { receiverCpuMsPerMiB: unknown }).receiverCpuMsPerMiB = null // JSON of x/0
  t.equal(ceilings(noDown).consumer, undefined)
  t.ok(ceilings(noDown).producer)
  const noCrc = results()
  noCrc.micro.rows = []
  t.same(ceilings(noCrc), {})
})

t.test('the targets table shows each 1 KiB ceiling as a share of its WebSocket limit', async (t) => {
  const rows = headlines(results())
  const producer = rows.find((h) => h.target.startsWith('producer, 1 KiB'))!
  const consumer = rows.find((h) => h.target.startsWith('consumer, 1 KiB'))!
  t.match(producer.ceiling, /^29 %: 286 MiB\/s \(CPU per MiB: client 1\.50 ms = crc 1\.00 \+ WebSocket send 0\.50; broker 3\.50 ms = .*; broker's other threads 0\.50 ms = fsync 0\.50\)$/)
  t.match(consumer.ceiling, /^29 %: 571 MiB\/s/)
  t.equal(rows.find((h) => h.target.startsWith('producer, 100 B'))!.ceiling, undefined)
  t.equal(describeCeiling(ceilings(results()).consumer!), '571 MiB/s (CPU per MiB: client 1.75 ms = WebSocket receive 0.75 + crc 1.00; broker 0.13 ms = WebSocket send 0.13)')
})

t.test('the report renders results written before the CPU costs were measured', async (t) => {
  const old = results()
  for (const d of [old.limits.websocket!.bandwidthClientToServer, old.limits.websocket!.bandwidthServerToClient]) {
    delete d.senderCpuMsPerMiB
    delete d.receiverCpuMsPerMiB
  }
  delete old.limits.disk!.seqWriteCpuMsPerMiB
  delete old.limits.disk!.seqSyncCpuMsPerMiB
  const md = markdown(old, [])
  t.match(md, /\| WebSocket server→client, 64 KiB frames \| 2000\.0 MiB\/s \| sender –, receiver – \|/)
  t.notMatch(md, /MiB\/s \(CPU per MiB/)
})
