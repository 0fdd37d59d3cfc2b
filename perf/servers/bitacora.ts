// One Bitácora broker process (the built CLI) on a free loopback port, data in a temp dir.
import { NODE_FLAGS } from '../../src/cli/node-flags.js'
import { startChild, tempDir, waitFor, removeDir } from '../processes.js'

const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname

export interface RunningServer {
  url: string
  pid: number
  /** Every server process of a cluster (absent: just `pid`). */
  pids?: readonly number[]
  stop(): Promise<void>
}

export async function startBitacora(extraArgs: string[] = []): Promise<RunningServer> {
  const dir = tempDir('bitacora')
  const child = startChild(process.execPath, [...NODE_FLAGS, BIN, 'broker', '--host', '127.0.0.1', '--port', '0', '--data-dir', dir, ...extraArgs])
  await waitFor(child, 'bitacora broker', (out) => /listening on ws:\/\/\S+/.test(out))
  const url = /listening on (ws:\/\/\S+)/.exec(child.output())![1]
  return {
    url,
    pid: child.process.pid!,
    stop: async () => {
      await child.stop()
      removeDir(dir)
    },
  }
}
