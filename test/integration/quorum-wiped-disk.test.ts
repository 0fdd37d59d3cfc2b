// KIP-853 with real processes: voters are (node id, directory id). A voter whose data dir is
// wiped comes back (same flags) with a new directory id in meta.properties: it is a new replica,
// an observer under the old voter's id, and never counts as that voter — the quorum stays at its
// three recorded voters, so with one more voter down the survivor cannot lead with the wiped
// node's help (its check-quorum resigns it). `cluster remove-voter` then `cluster add-voter`
// make the new replica a voter, after which the cluster survives losing another node.
import t from 'tap'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { bitacora } from '../../src/protocol/index.js'
import { runCli } from './cli-process.js'
import { ProcessCluster, until } from './quorum-nodes.js'

const cli = (args: string[]) => runCli(args, { timeoutMs: 60_000 })

function directoryIdOf(dataDir: string): string {
  const id = /^directory\.id=(.+)$/m.exec(readFileSync(join(dataDir, 'meta.properties'), 'utf8'))?.[1]
  if (id === undefined) throw new Error(`no directory.id in ${dataDir}/meta.properties`)
  return id
}

t.test('a wiped voter returns as an observer with a new directory id, never counts as the voter it was, and votes again once replaced', async (t) => {
  const c = await ProcessCluster.create(t, [1, 2, 3])
  await c.startAll()
  const describe = async (id: number): Promise<bitacora.IDescribeQuorumResponse> => (await c.call(id, { describeQuorum: {} })).describeQuorum!
  const recorded = (d: bitacora.IDescribeQuorumResponse) => (d.voters ?? []).map((v) => `${v.nodeId}@${v.directoryId ?? ''}`).sort()
  const dirs = new Map(c.ids.map((id) => [id, directoryIdOf(c.dataDirs.get(id)!)]))
  const original = [1, 2, 3].map((id) => `${id}@${dirs.get(id)}`)

  // The bootstrap list names no directory ids: the leader records them once each voter has fetched.
  let leader = await c.controller()
  await until('the leader to record every voter with the directory id of its meta.properties', async () => recorded(await describe(leader)).join() === original.join(), 30_000)

  // Node 2 (or, if it leads, node 3) loses its disk and is started again with the same flags.
  const wiped = leader === 2 ? 3 : 2
  await c.stop(wiped, 'SIGKILL')
  const dataDir = c.dataDirs.get(wiped)!
  rmSync(dataDir, { recursive: true, force: true })
  mkdirSync(dataDir)
  await c.start(wiped)
  const fresh = directoryIdOf(dataDir)
  t.not(fresh, dirs.get(wiped), 'the wiped node has a new directory id')
  leader = await c.controller([1, 2, 3].filter((id) => id !== wiped))
  const observed = await until(`node ${wiped} to catch up as an observer under its new directory id`, async () => {
    const d = await describe(leader)
    const o = (d.observers ?? []).find((r) => r.nodeId === wiped)
    return o !== undefined && o.directoryId === fresh && o.lag === 0 ? d : null
  }, 30_000)
  t.same(recorded(observed), original, 'the voters are still the three recorded replicas, the old one of node ' + wiped)

  const text = await cli(['cluster', 'describe', '-b', c.url(leader)])
  t.equal(text.status, 0, text.stderr)
  t.match(text.stdout, new RegExp(`\\n${wiped} +${dirs.get(wiped)} +ws://\\S+ +\\S+ +\\S+ +\\S+ +Follower\\n`), 'describe shows the old replica as the voter...')
  t.match(text.stdout, new RegExp(`\\n${wiped} +${fresh} +ws://\\S+ +\\d+ +0 +\\d+ +Observer\\n`), '...and the new one as an observer, each with its directory id')

  // With the third voter down, the leader and the wiped node are not a majority: the leader's
  // check-quorum does not count the wiped node's fetches, and it resigns.
  const third = [1, 2, 3].find((id) => id !== wiped && id !== leader)!
  await c.stop(third, 'SIGKILL')
  await until(`node ${leader} to resign: node ${wiped}'s fetches are not voter ${wiped}'s`, async () => ((await describe(leader)).leaderId ?? -1) === -1 ? true : null, 30_000)
  const refused = await c.createTopic(leader, 'while-no-quorum', 1, 3_000)
  t.not(refused.error, null, `no quorum: the create is refused (${refused.error?.message ?? ''})`)

  // The third voter returns; the operator replaces the old replica by the new one.
  await c.start(third)
  leader = await c.controller([1, 2, 3])
  const removed = await cli(['cluster', 'remove-voter', String(wiped), '-b', c.url(leader)])
  t.equal(removed.status, 0, removed.stderr)
  const added = await cli(['cluster', 'add-voter', String(wiped), c.url(wiped), '--timeout-ms', '30000', '-b', c.url(leader)])
  t.equal(added.status, 0, added.stderr)
  t.match(added.stdout, `node ${wiped} is a voter now; voters: 1, 2, 3`)
  leader = await c.controller([1, 2, 3])
  const replaced = original.map((v) => (v.startsWith(`${wiped}@`) ? `${wiped}@${fresh}` : v))
  await until('the voter set to name the new replica', async () => recorded(await describe(leader)).join() === replaced.join(), 30_000)

  // Now the new replica counts: the cluster survives losing node 1.
  const lost = 1
  await c.stop(lost, 'SIGKILL')
  const rest = [1, 2, 3].filter((id) => id !== lost)
  const next = await c.controller(rest, 30_000)
  const created = await until('a create to succeed on the two remaining voters', async () => {
    const r = await c.createTopic(next, 'after-replacing', 1, 5_000)
    return r.error == null ? r : null
  }, 30_000)
  t.equal(created.error, null, `node ${next} leads with node ${rest.find((id) => id !== next)}, the new replica ${wiped} among them`)
})
