// Three Bitácora brokers (the built CLI) as one cluster on free loopback ports, through the same
// process helper the integration tests use; url lists every broker (the client bootstraps from
// any). Stopped with SIGTERM, then SIGKILL for whatever is left.
import { ProcessCluster } from '../../test/integration/quorum-nodes.js'
import { Teardowns } from '../teardowns.js'
import type { RunningServer } from './bitacora.js'

export async function startBitacoraCluster(size = 3): Promise<RunningServer> {
  const teardowns = new Teardowns()
  const ids = Array.from({ length: size }, (_, i) => i + 1)
  try {
    const cluster = await ProcessCluster.create(teardowns, ids)
    await cluster.startAll()
    return {
      url: ids.map((id) => cluster.url(id)).join(','),
      pid: cluster.processes.get(1)!.child.pid!,
      pids: ids.map((id) => cluster.processes.get(id)!.child.pid!),
      stop: async () => {
        await Promise.all(ids.map((id) => cluster.stop(id, 'SIGTERM')))
        await teardowns.run()
      },
    }
  } catch (err) {
    await teardowns.run()
    throw err
  }
}
