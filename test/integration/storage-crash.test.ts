// Crash test with real processes: a child appends with flush=always and reports flushed
// offsets; it is SIGKILLed at random moments (STORAGE_CRASH_KILLS, default 25); after each
// kill the log is reopened and every batch below the highest reported flushed offset must be
// intact, byte for byte. (SIGKILL keeps the page cache, so this checks recovery of torn
// writes and crash points in rolls and checkpoints; power cuts are simulated in
// test/storage/power-cut.property.test.ts.)
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { splitBatches } from '../../src/codec/index.js'
import { PartitionLog } from '../../src/storage/index.js'
import { codec } from '../storage/helpers.js'
import { expectedBatch } from '../storage/crash-child.js'

const KILLS = Number(process.env.STORAGE_CRASH_KILLS ?? 25)
const child = fileURLToPath(new URL('../storage/crash-child.ts', import.meta.url))

/** Runs the child until it has reported some flushes, kills it after a random delay. */
function runAndKill(dir: string, delayMs: number): Promise<{ flushed: number; startedAt: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
    let flushed = -1
    let startedAt = -1
    let buf = ''
    p.stdout.setEncoding('utf8')
    p.stdout.on('data', (chunk: string) => {
      buf += chunk
      const lines = buf.split('\n')
      buf = lines.pop()!
      for (const line of lines) {
        const [what, n] = line.split(' ')
        if (what === 'ready') {
          startedAt = Number(n)
          setTimeout(() => p.kill('SIGKILL'), delayMs)
        } else if (what === 'flushed') flushed = Math.max(flushed, Number(n))
      }
    })
    p.on('error', reject)
    p.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code ?? signal} before it was killed`))
      else resolve({ flushed, startedAt })
    })
  })
}

// Each child pays tsx's start-up (about 1 s on this machine), so 50 kills take about a minute.
t.test(`${KILLS} SIGKILLs: every batch reported flushed survives intact`, { timeout: 600_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bitacora-crash-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let reported = 0
  let checkedBatches = 0
  for (let kill = 0; kill < KILLS; kill++) {
    const { flushed, startedAt } = await runAndKill(dir, 5 + Math.floor(Math.random() * 120))
    reported = Math.max(reported, flushed)
    const log = await PartitionLog.open({ dir, codec, config: { segmentBytes: 64 * 1024, indexIntervalBytes: 1024 } })
    if (log.logEndOffset < reported) t.fail(`kill ${kill}: log ends at ${log.logEndOffset}, ${reported} was reported flushed`)
    if (log.logEndOffset < startedAt) t.fail(`kill ${kill}: log went back from ${startedAt} to ${log.logEndOffset}`)
    const { bytes } = await log.read(0, 256 * 1024 * 1024)
    for (const [s, e] of splitBatches(bytes)) {
      const base = Number(new DataView(bytes.buffer, bytes.byteOffset + s).getBigInt64(0))
      if (!Buffer.from(bytes.subarray(s, e)).equals(expectedBatch(base))) t.fail(`kill ${kill}: batch at ${base} differs`)
    }
    checkedBatches = splitBatches(bytes).length
    await log.close()
  }
  t.ok(reported > 0, `children reported up to offset ${reported} flushed; ${checkedBatches} batches verified after the last kill`)
})
