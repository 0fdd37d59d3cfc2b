// redis-server with an append-only file (fsync everysec or always), no RDB snapshots, data in
// a temp dir, on a free loopback port.
import { freePort, removeDir, startChild, tempDir, waitFor } from '../processes.js'
import type { RunningServer } from './bitacora.js'

export type AofFsync = 'everysec' | 'always'

export async function startRedis(fsync: AofFsync): Promise<RunningServer> {
  const dir = tempDir(`redis-${fsync}`)
  const port = await freePort()
  const child = startChild('redis-server', [
    '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', fsync,
    '--save', '', '--daemonize', 'no', '--protected-mode', 'yes', '--logfile', '',
  ])
  await waitFor(child, 'redis-server', (out) => out.includes('Ready to accept connections'))
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.process.pid!,
    stop: async () => {
      await child.stop()
      removeDir(dir)
    },
  }
}

export async function redisVersion(): Promise<string> {
  const child = startChild('redis-server', ['--version'])
  await child.exited
  return child.output().trim()
}
