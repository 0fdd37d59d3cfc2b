// nats-server with JetStream, file storage in a temp dir, on a free loopback port.
import { freePort, removeDir, startChild, tempDir, waitFor } from '../processes.js'
import type { RunningServer } from './bitacora.js'

export async function startNats(): Promise<RunningServer> {
  const dir = tempDir('nats')
  const port = await freePort()
  const child = startChild('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, '--http_port', '0'])
  await waitFor(child, 'nats-server', (out) => out.includes('Server is ready'))
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: child.process.pid!,
    stop: async () => {
      await child.stop()
      removeDir(dir)
    },
  }
}

export async function natsVersion(): Promise<string> {
  const child = startChild('nats-server', ['--version'])
  await child.exited
  return child.output().trim()
}
