// meta.properties: what it says, and a damaged one named as such (not a stack trace).
import t from 'tap'
import { formatMeta, parseMeta } from '../../src/broker/data-dir.js'
import { StartupError } from '../../src/broker/startup-error.js'

t.test('written and read back', async (t) => {
  const identity = { clusterId: 'c-1', nodeId: 3, directoryId: 'd-9' }
  const text = formatMeta(identity)
  t.match(text, /^version=1$/m)
  t.match(text, /^cluster\.id=c-1$/m)
  t.same(parseMeta(text, 'meta.properties'), identity)
  t.same(parseMeta('\n# note\nnode.id=0\nversion=1\ndirectory.id=x\ncluster.id=y\n', 'm'), { clusterId: 'y', nodeId: 0, directoryId: 'x' }, 'any order, comments')
})

t.test('damaged files say what is wrong', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['version=1\ncluster.id=c\nnode.id=1\n', /has no directory\.id/],
    ['version=2\ncluster.id=c\nnode.id=1\ndirectory.id=d\n', /version 2 is not one this broker reads/],
    ['version=1\ncluster.id=c\nnode.id=-1\ndirectory.id=d\n', /node\.id -1 is not an integer/],
    ['version=1\ngarbage\n', /'garbage' is not key=value/],
    ['', /has no version/],
  ]
  for (const [text, pattern] of cases) t.throws(() => parseMeta(text, 'meta.properties'), { name: 'StartupError', message: pattern })
  t.type(new StartupError('x'), Error)
})
