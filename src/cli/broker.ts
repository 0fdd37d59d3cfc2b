// `bitacora broker [options]`: runs a broker until SIGINT/SIGTERM, then stops it cleanly.
// Prints one line on stdout once it listens: `bitacora broker <id> listening on <url>`.
// A broker that cannot start (taken port, locked or unwritable data directory, …) prints one
// line naming the cause and exits 1, having started nothing.
import { Broker } from '../broker/broker.js'
import { BROKER_USAGE, parseBrokerArgs } from '../broker/config.js'
import { jsonLogger } from '../broker/log.js'
import { StartupError } from '../broker/startup-error.js'
import { missingNodeFlags } from './node-flags.js'

export async function brokerCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(BROKER_USAGE)
    return 0
  }
  const config = parseBrokerArgs(argv)
  const log = jsonLogger({ broker: config.brokerId })
  let broker: Broker
  try {
    broker = await Broker.start(config, log)
  } catch (err) {
    if (!(err instanceof StartupError)) throw err
    console.error(`bitacora broker: ${err.message}`)
    return 1
  }
  console.log(`bitacora broker ${config.brokerId} listening on ${broker.url}`)
  const missing = missingNodeFlags()
  if (missing.length > 0) {
    log.warn(`node runs without ${missing.join(' ')}: under load V8 runs needless full garbage collections, up to twice the CPU per record (why: src/cli/node-flags.ts); start brokers with \`bitacora broker\`, ./cluster.sh, or node ${missing.join(' ')} dist/cli/main.js broker`)
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await broker.stop()
  return 0
}
