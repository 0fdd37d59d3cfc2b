// The producer's reused buffers: the connection's frame scratch and the encoded-batch spares.
import t from 'tap'
import { BatchSpares } from '../../src/client/batch-spares.js'
import { FrameScratch } from '../../src/client/frame-scratch.js'
import { generateMask } from '../../src/client/node.js'

t.test('the frame scratch hands out views of one buffer, grows to the largest frame, and never keeps an oversized one', async (t) => {
  const scratch = new FrameScratch(1000)
  const a = scratch.take(100)
  const b = scratch.take(60)
  t.equal(a.length, 100)
  t.equal(b.length, 60)
  t.equal(a.buffer, b.buffer, 'the same bytes, reused')
  const c = scratch.take(700)
  t.equal(c.length, 700)
  t.ok(scratch.capacityBytes >= 700 && scratch.capacityBytes <= 1000, `grown to ${scratch.capacityBytes}, within the cap`)
  const huge = scratch.take(5000)
  t.equal(huge.length, 5000)
  t.not(huge.buffer, c.buffer, 'a frame over the cap gets its own buffer')
  t.ok(scratch.capacityBytes <= 1000, 'and the scratch does not grow for it')
})

t.test('batch spares: reuse what was given back, bounded, and keep only their own buffers', async (t) => {
  const spares = new BatchSpares(256, 2)
  const a = spares.take(200)
  t.equal(a.length, 200)
  spares.give(a)
  const b = spares.take(130)
  t.equal(b.buffer, a.buffer, 'a settled batch buffer is reused')
  const small = spares.take(100)
  t.equal(small.buffer.byteLength, 100, 'a batch under half a spare gets a buffer of its own size, not a whole spare')
  spares.give(small)
  t.equal(spares.count, 0, 'and it is not kept')
  const big = spares.take(300)
  t.equal(big.length, 300, 'larger than a spare: its own buffer')
  spares.give(big)
  spares.give(new Uint8Array(512).subarray(256))
  t.equal(spares.count, 0, 'buffers it did not hand out are not kept')
  spares.give(b)
  spares.give(spares.take(200).subarray(0, 10))
  spares.give(new BatchSpares(256, 1).take(256))
  t.equal(spares.count, 2)
  spares.give(new BatchSpares(256, 1).take(256))
  t.equal(spares.count, 2, 'at most countMax kept')
})

t.test("the Node transport's masking keys are never all zero (ws would not copy such a frame)", async (t) => {
  const mask = Buffer.alloc(4)
  generateMask(mask, (b, offset, size) => b.fill(0, offset, offset + size))
  t.not(mask[0] | mask[1] | mask[2] | mask[3], 0, 'a zero key is changed')
  generateMask(mask, (b, offset, size) => b.fill(7, offset, offset + size))
  t.same([...mask], [7, 7, 7, 7], 'any other key is left as drawn')
  generateMask(mask)
  t.equal(mask.length, 4)
})
