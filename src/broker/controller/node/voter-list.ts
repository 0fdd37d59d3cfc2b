// `--controller-voters 1@ws://127.0.0.1:9092,2@ws://127.0.0.1:9093,…`: the metadata quorum's
// bootstrap voters, each a node id and the URL of its listener (the one its clients use). Used
// only while the metadata log is empty; after that the voter set recorded in the log wins.
import { CONTROLLER_VOTERS_MAX } from '../decisions/limits.js'

export interface ControllerVoter {
  readonly id: number
  /** Normalized: ws://host:port/ (or wss://). */
  readonly url: string
}

const INT32_MAX = 0x7fffffff

/** Parses the list; throws an Error naming the first entry that is wrong and why. */
export function parseControllerVoters(text: string): ControllerVoter[] {
  const entries = text.split(',').map((e) => e.trim())
  if (text.trim() === '') throw new Error('--controller-voters: expected ID@URL,ID@URL,… (e.g. 1@ws://127.0.0.1:9092), got nothing')
  if (entries.length > CONTROLLER_VOTERS_MAX) throw new Error(`--controller-voters: at most ${CONTROLLER_VOTERS_MAX} voters, got ${entries.length}`)
  const voters: ControllerVoter[] = []
  for (const entry of entries) {
    const voter = parseEntry(entry)
    const sameId = voters.find((v) => v.id === voter.id)
    if (sameId) throw new Error(`--controller-voters: node ${voter.id} is listed twice (${sameId.url} and ${voter.url})`)
    const sameUrl = voters.find((v) => v.url === voter.url)
    if (sameUrl) throw new Error(`--controller-voters: nodes ${sameUrl.id} and ${voter.id} have the same URL ${voter.url}`)
    voters.push(voter)
  }
  return voters
}

function parseEntry(entry: string): ControllerVoter {
  const at = entry.indexOf('@')
  if (at < 0) throw new Error(`--controller-voters: '${entry}' is not ID@URL (e.g. 1@ws://127.0.0.1:9092)`)
  const idText = entry.slice(0, at)
  const id = Number(idText)
  if (!/^\d{1,10}$/.test(idText) || id > INT32_MAX) throw new Error(`--controller-voters: '${entry}': the node id '${idText}' is not an integer in [0, ${INT32_MAX}]`)
  return { id, url: normalizeUrl(entry.slice(at + 1), entry) }
}

function normalizeUrl(text: string, entry: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new Error(`--controller-voters: '${entry}': '${text}' is not a URL (expected ws://HOST:PORT)`)
  }
  const problem =
    url.protocol !== 'ws:' && url.protocol !== 'wss:' ? `the scheme is ${url.protocol.slice(0, -1)}, not ws or wss`
    : url.hostname === '' ? 'it names no host'
    : url.username !== '' || url.password !== '' ? 'it carries credentials'
    : (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' ? 'it has a path, query or fragment (a broker listens at /)'
    : null
  if (problem) throw new Error(`--controller-voters: '${entry}': ${problem}`)
  return `${url.protocol}//${url.host}/`
}
