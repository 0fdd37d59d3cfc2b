// Connecting the CLI to a cluster: the bootstrap URLs (--bootstrap-server, else
// $BITACORA_BROKERS, else the client config's profile, else the local default), a client, a
// first connection made at once — retried for a few seconds, so `bitacora broker &` followed by
// a command works, but an unreachable cluster is one clear error rather than a minute of
// retries — and topic lookups that fail fast on an unknown topic.
import { createClient, isRetriableError, type Client, type TopicDescription } from '../client/node.js'
import { OperationalError, UsageError } from './errors.js'
import { CONNECT_RETRY_MS, CONNECT_WAIT_MS } from './limits.js'

export const DEFAULT_BOOTSTRAP = 'ws://127.0.0.1:9092/'

export const CLIENT_HELP = `  -b, --bootstrap-server URL[,URL...]
                           the brokers to start from (default $BITACORA_BROKERS, else the profile's,
                           else ${DEFAULT_BOOTSTRAP})
  --client-config FILE     a JSON file of named profiles of settings (default $BITACORA_CLIENT_CONFIG)
  --profile NAME           the profile to use (default $BITACORA_PROFILE, else 'default')`

/** Broker URLs from the flag or the environment; `host:port` means `ws://host:port/`. */
export function bootstrapServers(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const spec = flag ?? (env.BITACORA_BROKERS || DEFAULT_BOOTSTRAP)
  const urls = spec.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  if (urls.length === 0) throw new UsageError('--bootstrap-server: no broker URL given')
  return urls.map((s) => {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `ws://${s}`
    let url: URL
    try {
      url = new URL(withScheme)
    } catch {
      throw new UsageError(`--bootstrap-server: '${s}' is not a URL`)
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UsageError(`--bootstrap-server: '${s}' must be a ws:// or wss:// URL`)
    return url.href
  })
}

/**
 * A client whose first connection is already made, or an OperationalError saying why not. A
 * broker that refuses the connection (not listening yet, still starting) is tried again for up
 * to CONNECT_WAIT_MS.
 */
export async function connectClient(brokers: string[]): Promise<Client> {
  const client = createClient({ brokers, clientId: 'bitacora-cli' })
  const deadline = Date.now() + CONNECT_WAIT_MS
  for (;;) {
    try {
      await client.cluster.anyBroker()
      return client
    } catch (err) {
      if (isRetriableError(err) && Date.now() + CONNECT_RETRY_MS < deadline) {
        await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_MS))
        continue
      }
      await client.close()
      // The WebSocket error event carries no reason, so the innermost message may only repeat the URL.
      const why = err instanceof Error ? rootMessage(err) : String(err)
      const detail = /^cannot connect to /.test(why) ? '' : `: ${why}`
      throw new OperationalError(`cannot reach broker ${brokers.join(', ')}${detail}`)
    }
  }
}

/** The innermost message of an error chain (e.g. ECONNREFUSED under CONNECTION_FAILED). */
function rootMessage(err: Error): string {
  let e: Error = err
  while (e.cause instanceof Error) e = e.cause
  return e.message || (e as NodeJS.ErrnoException).code || err.message
}

/** One topic's metadata; an unknown topic is an OperationalError at once (no waiting). */
export async function describeTopic(client: Client, topic: string): Promise<TopicDescription> {
  const [description] = await client.admin().describeTopics([topic])
  if (description === undefined) throw new OperationalError(`no metadata for topic '${topic}'`)
  if (description.error?.code === 'UNKNOWN_TOPIC_OR_PARTITION') throw new OperationalError(`unknown topic '${topic}'`)
  if (description.error) throw description.error
  return description
}

/** Runs `body` with a connected client, closing it afterwards whatever happens. */
export async function withClient<T>(brokers: string[], body: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(brokers)
  try {
    return await body(client)
  } finally {
    await client.close()
  }
}
