// PartitionLog.verify (the scrub and the check before a campaign) and onDamage: closed segments
// opened after a clean stop are not CRC-checked by recovery; verify finds a flipped byte there,
// reports it once, fences it off like a read would, and truncating below it heals the log.
import t from 'tap'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { baseOffsets, makeBatch, open, tempDir } from './helpers.js'
import type { CorruptRange } from '../../src/storage/recovery.js'

const config = { segmentBytes: 2048, indexIntervalBytes: 128 }

async function build(dir: string, batches = 40): Promise<Uint8Array> {
  const log = await open(dir, { config })
  for (let i = 0; i < batches; i++) await log.appendAsLeader(makeBatch(2, 50, i), 1)
  const all = (await log.read(0, 1 << 20)).bytes
  await log.close()
  return all
}

const logs = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.log')).sort()
const flip = (path: string, at: number) => {
  const b = readFileSync(path)
  b[at] ^= 0x10
  writeFileSync(path, b)
}

t.test('a clean log reopened is unverified until verify has walked it, in bounded steps', async (t) => {
  const dir = tempDir(t)
  await build(dir)
  const log = await open(dir, { config })
  t.teardown(() => log.close())
  t.equal(log.fullyVerified, false, 'closed segments were loaded, not scanned')
  const step = await log.verify(600)
  t.ok(step.checkedBytes > 0 && step.checkedBytes <= 600 + 200, `a step checks about maxBytes (${step.checkedBytes})`)
  t.equal(step.done, false)
  let steps = 1
  for (let r = step; !r.done; steps++) {
    r = await log.verify(600)
    t.equal(r.damage, null)
    if (steps > 100) throw new Error('verify does not finish')
  }
  t.ok(steps > 3, `took several steps (${steps})`)
  t.equal(log.fullyVerified, true)
  t.same(await log.verify(600), { checkedBytes: 0, done: true, damage: null }, 'nothing left to check')
})

t.test('verify finds a flipped byte in a closed segment, reports it once, and it is never served', async (t) => {
  const dir = tempDir(t)
  const all = await build(dir)
  const name = logs(dir)[1]
  const base = Number(name.slice(0, 20))
  flip(join(dir, name), 300)
  const log = await open(dir, { config })
  t.teardown(() => log.close())
  const seen: CorruptRange[] = []
  log.onDamage((r) => seen.push(r))
  let r = await log.verify(1 << 20)
  t.ok(r.damage !== null, 'damage found')
  t.equal(seen.length, 1, 'listeners told once')
  t.same(seen[0], r.damage)
  const damage = r.damage!
  t.ok(damage.startOffset > base && damage.startOffset < base + 20, `inside the flipped segment (${damage.startOffset})`)
  t.equal(log.stats().corruptionsDetected, 1)
  await t.rejects(log.read(damage.startOffset, 1 << 20), { code: 'CORRUPT_DATA' }, 'the damaged batch is never served')
  const before = await log.read(0, 1 << 20)
  t.equal(Math.max(...baseOffsets(before.bytes)) < damage.startOffset, true, 'a read from 0 stops before it')
  // A read that reaches the same range does not report it again.
  await log.read(base, 1 << 20).catch(() => undefined)
  t.equal(seen.length, 1, 'not reported twice')

  // Truncating to the damage heals the log: re-appending the same bytes gives the original back.
  await log.truncateTo(damage.startOffset)
  t.equal(log.logEndOffset, damage.startOffset)
  t.same(log.unreadableRanges(), [], 'no damaged range left')
  r = await log.verify(1 << 20)
  t.equal(r.damage, null)
  t.equal(r.done, true, 'what is left verifies clean')
  const at = (await log.read(0, 1 << 20)).bytes.length
  await log.appendAsFollower(all.slice(at))
  t.same((await log.read(0, 1 << 20)).bytes, all, 'byte for byte the log before the flip')
})

t.test('a damaged range found by a read is reported to listeners too', async (t) => {
  const dir = tempDir(t)
  await build(dir)
  const name = logs(dir)[2]
  flip(join(dir, name), 250)
  const log = await open(dir, { config })
  t.teardown(() => log.close())
  const seen: CorruptRange[] = []
  log.onDamage((r) => seen.push(r))
  const base = Number(name.slice(0, 20))
  await log.read(base, 1 << 20).catch(() => undefined)
  await log.read(base, 1 << 20).catch(() => undefined)
  t.equal(seen.length, 1)
  t.ok(seen[0].startOffset >= base)
})
