import t from 'tap'
import { SimFileLayer, readSmallFile, writeFileAtomic } from '../../src/storage/index.js'

t.test('a power cut at any point leaves the old or the new content, whole', async (t) => {
  const enc = new TextEncoder()
  const old = enc.encode('old state')
  const next = enc.encode('the new state, longer')
  // Cut after k file-layer steps of the write; the sim counts fsyncs, so cut between them.
  for (let k = 0; k < 6; k++) {
    const fs = new SimFileLayer()
    await fs.mkdirp('/d')
    await writeFileAtomic(fs, '/d/quorum-state', old)
    let steps = 0
    const write = writeFileAtomic(fs, '/d/quorum-state', next).catch(() => undefined)
    while (steps < k) {
      await new Promise((r) => setImmediate(r))
      steps++
    }
    fs.powerCut({ random: Math.random })
    await write
    const got = readSmallFile(fs, '/d/quorum-state')
    t.ok(got !== null && [Buffer.from(old).toString(), Buffer.from(next).toString()].includes(Buffer.from(got).toString()), `cut after ${k} steps: ${got && Buffer.from(got).toString()}`)
  }
  const fs = new SimFileLayer()
  await fs.mkdirp('/d')
  await writeFileAtomic(fs, '/d/x', next)
  fs.powerCut()
  t.same(readSmallFile(fs, '/d/x'), next, 'durable once the write resolved')
  t.equal(readSmallFile(fs, '/d/missing'), null)
})
