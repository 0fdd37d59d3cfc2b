// Where each node listens: the voter list, then URLs heard, then committed registrations, each
// overriding the one before; this node's own URL is its listener's (or the voter list's), never an
// earlier run's registration: a broker restarted on another port registers where it listens now.
import t from 'tap'
import { MetadataImage } from '../../../src/metadata/image.js'
import { NodeDirectory } from '../../../src/broker/controller/node/node-directory.js'

const registered = (...brokers: Array<[number, string]>) => MetadataImage.EMPTY.apply(brokers.map(([brokerId, url]) => ({
  type: 'brokerRegistration' as const, brokerId, incarnationId: 'ab'.repeat(16), url, rack: '', directoryId: 'cd'.repeat(16),
})))

t.test('the voter list, then URLs heard, then registrations; every change told once', async (t) => {
  const d = new NodeDirectory(1, 'ws://127.0.0.1:9001/', [{ id: 1, url: 'ws://127.0.0.1:9001/' }, { id: 2, url: 'ws://127.0.0.1:9002/' }])
  const told: string[][] = []
  d.onChange((urls) => void told.push([...urls].map(([id, url]) => `${id}=${url}`)))
  t.same([...d.all], [[1, 'ws://127.0.0.1:9001/'], [2, 'ws://127.0.0.1:9002/']])
  d.learn(4, 'ws://127.0.0.1:9004/')
  d.learn(4, 'ws://127.0.0.1:9004/')
  t.equal(d.urlOf(4), 'ws://127.0.0.1:9004/', 'a URL heard (add-voter, a registration not yet committed)')
  d.setImage(registered([2, 'ws://127.0.0.1:9102/'], [4, 'ws://127.0.0.1:9104/']))
  t.equal(d.urlOf(2), 'ws://127.0.0.1:9102/', 'a committed registration wins over the voter list')
  t.equal(d.urlOf(4), 'ws://127.0.0.1:9104/', 'and over a URL heard')
  t.equal(told.length, 2, 'each change told once')
})

t.test('its own URL is never an earlier run\'s registration', async (t) => {
  const restarted = new NodeDirectory(0, 'ws://127.0.0.1:40002/', undefined)
  restarted.setImage(registered([0, 'ws://127.0.0.1:40001/']))
  t.equal(restarted.urlOf(0), 'ws://127.0.0.1:40002/', 'alone: where its listener is now')
  const voter = new NodeDirectory(1, 'ws://0.0.0.0:9001/', [{ id: 1, url: 'ws://proxy.local:9001/' }])
  voter.setImage(registered([1, 'ws://127.0.0.1:9001/']))
  t.equal(voter.urlOf(1), 'ws://proxy.local:9001/', 'a voter: where the voter list says peers reach it')
})

t.test('a route changes where this node dials a peer, not the URL it names or registers', async (t) => {
  const d = new NodeDirectory(1, 'ws://127.0.0.1:9001/', [{ id: 1, url: 'ws://127.0.0.1:9001/' }, { id: 2, url: 'ws://127.0.0.1:9002/' }, { id: 3, url: 'ws://127.0.0.1:9003/' }],
    [{ id: 2, url: 'ws://127.0.0.1:19002/' }, { id: 1, url: 'ws://127.0.0.1:19001/' }])
  const told: string[][] = []
  d.onChange((urls) => void told.push([...urls].map(([id, url]) => `${id}=${url}`)))
  t.same([...d.dialed], [[1, 'ws://127.0.0.1:9001/'], [2, 'ws://127.0.0.1:19002/'], [3, 'ws://127.0.0.1:9003/']], 'node 2 through its route; a route to itself ignored')
  t.equal(d.urlOf(2), 'ws://127.0.0.1:9002/', 'the URL named to clients is where node 2 listens')
  d.setImage(registered([2, 'ws://127.0.0.1:9102/'], [3, 'ws://127.0.0.1:9103/']))
  t.same(told, [['1=ws://127.0.0.1:9001/', '2=ws://127.0.0.1:19002/', '3=ws://127.0.0.1:9103/']], 'a registration moves node 3; the route still wins for node 2')
})
