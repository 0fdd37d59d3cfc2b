// The voters a metadata log was bootstrapped with, recorded beside it on first start
// (`bootstrap-voters.json`). A later start must name the same voter ids (the same
// --controller-voters, or none for a one-node cluster): the log's own voter set — changed by
// add-voter / remove-voter since — then wins, so restarting with the original flags is right,
// while a list that names other nodes (a typo, another cluster's list, a one-node broker
// restarted into a cluster) is refused before anything is opened.
import { join } from 'node:path'
import { readSmallFile, writeFileAtomic, type FileLayer } from '../../../storage/index.js'
import { StartupError } from '../../startup-error.js'
import type { ControllerVoter } from './voter-list.js'

const FILE = 'bootstrap-voters.json'
const VERSION = 1

interface Recorded {
  readonly version: number
  /** Node ids; a one-node cluster started without --controller-voters records its own id and standalone. */
  readonly voters: readonly number[]
  readonly standalone: boolean
}

/**
 * Checks `given` (undefined: started without --controller-voters) against what `dir` recorded,
 * or records it on first start. Returns the bootstrap voter ids.
 */
export async function checkBootstrapVoters(fs: FileLayer, dir: string, nodeId: number, given: readonly ControllerVoter[] | undefined): Promise<number[]> {
  const ids = given === undefined ? [nodeId] : given.map((v) => v.id)
  const path = join(dir, FILE)
  const saved = readSmallFile(fs, path)
  if (saved === null) {
    await fs.mkdirp(dir)
    const record: Recorded = { version: VERSION, voters: ids, standalone: given === undefined }
    await writeFileAtomic(fs, path, new TextEncoder().encode(JSON.stringify(record) + '\n'))
    return ids
  }
  const recorded = parse(saved, path)
  if (sameIds(recorded.voters, ids)) return ids
  const was = recorded.standalone ? `without --controller-voters (node ${recorded.voters[0]} alone)` : `with --controller-voters naming nodes ${sorted(recorded.voters).join(', ')}`
  const now = given === undefined ? `no --controller-voters (node ${nodeId} alone)` : `--controller-voters naming nodes ${sorted(ids).join(', ')}`
  throw new StartupError(
    `this start gives ${now}, but the metadata log in ${dir} was started ${was}; start the node with its original list (the voter set recorded in its log, changed by add-voter / remove-voter, wins), or give it an empty --data-dir`,
  )
}

function parse(bytes: Uint8Array, path: string): Recorded {
  let doc: Partial<Recorded>
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes)) as Partial<Recorded>
  } catch (err) {
    throw new StartupError(`${path} is damaged (${(err as Error).message}); it records the voters the metadata log started with`)
  }
  const ok = doc.version === VERSION && Array.isArray(doc.voters) && doc.voters.length > 0 && doc.voters.every((id) => Number.isInteger(id) && id >= 0) && typeof doc.standalone === 'boolean'
  if (!ok) throw new StartupError(`${path}: not a version ${VERSION} record of bootstrap voters; this broker cannot tell which voters the metadata log started with`)
  return doc as Recorded
}

function sorted(ids: readonly number[]): number[] {
  return [...ids].sort((a, b) => a - b)
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return sorted(a).join() === sorted(b).join()
}
