// A Redis primary with replicas (loopback ports, temp dirs, no AOF and no RDB: the replication
// class is "in memory on every replica", which is what WAIT confirms; Redis 7.0 has no WAITAOF).
// Ready once every replica finished its initial sync.
import { freePort, removeDir, startChild, tempDir, waitFor, type Child } from '../processes.js'
import type { RunningServer } from './bitacora.js'

export async function startRedisReplicated(replicas = 2): Promise<RunningServer> {
  const dirs: string[] = []
  const children: Child[] = []
  const stop = async () => {
    await Promise.all(children.map((c) => c.stop()))
    for (const dir of dirs) removeDir(dir)
  }
  const start = async (name: string, extra: string[]) => {
    const dir = tempDir(`redis-${name}`)
    dirs.push(dir)
    const port = await freePort()
    const child = startChild('redis-server', [
      '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'no', '--save', '',
      '--daemonize', 'no', '--protected-mode', 'yes', '--logfile', '', ...extra,
    ])
    children.push(child)
    return { port, child }
  }
  try {
    // Diskless sync without its default 5 s wait for more replicas: both start together.
    const primary = await start('primary', ['--repl-diskless-sync-delay', '0'])
    await waitFor(primary.child, 'redis primary', (out) => out.includes('Ready to accept connections'))
    const copies = await Promise.all(Array.from({ length: replicas }, (_, i) => start(`replica-${i + 1}`, ['--replicaof', '127.0.0.1', String(primary.port)])))
    await Promise.all(copies.map((r, i) => waitFor(r.child, `redis replica ${i + 1}`, (out) => out.includes('MASTER <-> REPLICA sync: Finished with success'))))
    return { url: `redis://127.0.0.1:${primary.port}`, pid: primary.child.process.pid!, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
