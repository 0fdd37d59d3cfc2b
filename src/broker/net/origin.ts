// Which web pages may open a WebSocket to the broker. Browsers send `Origin` on the
// handshake and cannot be trusted to be who they claim otherwise, so the broker refuses every
// page origin not on the allow-list. Clients that are not browsers (Node, the CLI) send no
// Origin and are admitted; authentication comes later.

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * @param origin the handshake's Origin header (undefined when absent)
 * @param allowed exact origins (`https://app.example.com`) or `*` for any
 * @param selfOrigins the broker's own origins (its console)
 * @param allowLocalhost admit pages served from localhost / 127.0.0.1 / [::1] on any port
 */
export function isOriginAllowed(
  origin: string | undefined,
  allowed: readonly string[],
  selfOrigins: readonly string[],
  allowLocalhost: boolean,
): boolean {
  if (origin === undefined) return true
  if (allowed.includes('*') || allowed.includes(origin) || selfOrigins.includes(origin)) return true
  if (!allowLocalhost) return false
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return false // "null" (sandboxed iframes, file: pages) and garbage
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && LOCAL_HOSTS.has(url.hostname)
}
