// Three nats-servers clustered with JetStream (file storage in temp dirs, loopback ports), for
// R3 streams: a stream's writes are acknowledged once a majority of its replicas stored them.
// Ready once every server is up and one of them reports a JetStream metadata leader.
import { freePort, removeDir, startChild, tempDir, waitFor, type Child } from '../processes.js'
import type { RunningServer } from './bitacora.js'

const CLUSTER_NAME = 'bitacora-perf'

export async function startNatsCluster(size = 3): Promise<RunningServer> {
  const clientPorts = await Promise.all(Array.from({ length: size }, () => freePort()))
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()))
  const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(',')
  const dirs: string[] = []
  const children: Child[] = []
  const stop = async () => {
    await Promise.all(children.map((c) => c.stop()))
    for (const dir of dirs) removeDir(dir)
  }
  try {
    for (let i = 0; i < size; i++) {
      const dir = tempDir(`nats-${i + 1}`)
      dirs.push(dir)
      children.push(startChild('nats-server', [
        '-a', '127.0.0.1', '-p', String(clientPorts[i]), '-js', '-sd', dir, '--http_port', '0',
        '--server_name', `n${i + 1}`, '--cluster_name', CLUSTER_NAME,
        '--cluster', `nats://127.0.0.1:${routePorts[i]}`, '--routes', routes,
      ]))
    }
    await Promise.all(children.map((c, i) => waitFor(c, `nats-server n${i + 1}`, (out) => out.includes('Server is ready'), 60_000)))
    // A metadata leader, told by any server: a server that joined late may never log one (one
    // did not in 60 s under a loaded CI machine), and an R3 stream needs only a majority.
    const leaderKnown = () => children.some((c) => /JetStream cluster new metadata leader|Self is new JetStream cluster metadata leader/.test(c.output()))
    await waitFor(children[0]!, 'a JetStream metadata leader', leaderKnown, 60_000)
  } catch (err) {
    await stop()
    throw err
  }
  return { url: clientPorts.map((p) => `nats://127.0.0.1:${p}`).join(','), pid: children[0]!.process.pid!, stop }
}
