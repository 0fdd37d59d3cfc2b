// Child process of test/integration/storage-crash.test.ts: appends deterministic batches with
// flush=always, 8 in flight, and prints `flushed <offset>` each time an append is durable,
// until it is killed. Batch content is a function of its base offset, so the parent can check.
import { stampBatch } from '../../src/codec/index.js'
import { PartitionLog } from '../../src/storage/index.js'
import { codec, makeBatch } from './helpers.js'

export const RECORDS_PER_BATCH = 4
export const VALUE_BYTES = 300

/** The batch the child writes at `baseOffset` (as stored: stamped with epoch 1). */
export function expectedBatch(baseOffset: number): Uint8Array {
  const b = makeBatch(RECORDS_PER_BATCH, VALUE_BYTES, baseOffset / RECORDS_PER_BATCH)
  stampBatch(b, baseOffset, 1)
  return b
}

async function main(dir: string): Promise<void> {
  const log = await PartitionLog.open({ dir, codec, config: { segmentBytes: 64 * 1024, indexIntervalBytes: 1024 } })
  process.stdout.write(`ready ${log.logEndOffset}\n`)
  let next = log.logEndOffset
  const inFlight = 8
  const worker = async () => {
    for (;;) {
      const seed = next / RECORDS_PER_BATCH
      next += RECORDS_PER_BATCH
      const info = await log.appendAsLeader(makeBatch(RECORDS_PER_BATCH, VALUE_BYTES, seed), 1)
      await log.waitForFlush(info.nextOffset)
      process.stdout.write(`flushed ${log.flushedOffset}\n`)
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
}

if (process.argv[2] !== undefined) await main(process.argv[2])
