// `bitacora broker [options]`: runs a broker until SIGINT/SIGTERM, then stops it cleanly.
// Prints one line on stdout once it listens: `bitacora broker <id> listening on <url>`.
import { Broker } from '../broker/broker.js'
import { BROKER_USAGE, parseBrokerArgs } from '../broker/config.js'

export async function brokerCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(BROKER_USAGE)
    return 0
  }
  const config = parseBrokerArgs(argv)
  const broker = await Broker.start(config)
  console.log(`bitacora broker ${config.brokerId} listening on ${broker.url}`)
  await new Promise<void>((resolve) => {
    const stop = () => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await broker.stop()
  return 0
}
