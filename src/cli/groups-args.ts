// What every `bitacora groups` subcommand shares: the help, the group id check (the coordinator's
// limit, named), and an unknown group as one clear error.
import type { GroupDescription } from '../client/node.js'
import { GROUP_ID_CHARS_MAX } from '../broker/groups/limits.js'
import { CLIENT_HELP } from './connect.js'
import { OperationalError, UsageError } from './errors.js'

export type Print = (line: string) => void

export const GROUPS_USAGE = `usage: bitacora groups <list|describe|delete|reset-offsets> [options]

  bitacora groups list [--json]                     every group: state, members, assignor
  bitacora groups describe GROUP... [--all-groups] [--members] [--state] [--json]
                                                    per partition: committed offset, log end, lag, owner
  bitacora groups delete GROUP...                   a group and its committed offsets (refused while it has members)
  bitacora groups reset-offsets GROUP MODE SCOPE [--execute] [--json]
                                                    a dry run prints the plan; --execute applies it

options:
  --all-groups             describe: every group
  --members                describe: one line per member (client id, host, partitions, assignment)
  --state                  describe: one line per group (coordinator, assignor, state, members)
  -J, --json               list, describe, reset-offsets: one JSON object per group (per partition for a reset)
reset-offsets (the group must have no active members; Kafka's modes):
  --to-earliest            the log start of each partition
  --to-latest              the log end (high watermark)
  --to-offset N            offset N
  --to-datetime TIME       the first record at or after TIME: ISO 8601 (2026-12-04T10:30:00Z; local time
                           unless it names a zone) or epoch milliseconds; the log end if there is none
  --by-duration PnDTnHnMnS as --to-datetime, that long before now (P1D, PT1H30M)
  --shift-by N             the committed offset plus N (negative: back)
  --topic TOPIC[:P,P...]   the topic's partitions to reset, all by default (repeatable)
  --all-topics             every topic the group has committed offsets for
  --dry-run                print the plan only (the default)
  --execute                apply the plan, in one write
An offset outside the log is set to its start or end, and stderr says so.
${CLIENT_HELP}`

export function help(flags: { help?: boolean }, print: Print): boolean {
  if (flags.help) print(GROUPS_USAGE)
  return flags.help === true
}

/** A group id the coordinator would refuse, refused here with the limit named. */
export function checkGroupId(command: string, groupId: string): string {
  if (groupId.length === 0 || groupId.length > GROUP_ID_CHARS_MAX) {
    throw new UsageError(`${command}: a group id is 1 to ${GROUP_ID_CHARS_MAX} characters (the coordinator's limit), not ${groupId.length}`)
  }
  return groupId
}

/** The group, or an OperationalError for an unknown one (and the broker's error for any other refusal). */
export function found(g: GroupDescription): GroupDescription {
  if (g.error?.code === 'GROUP_ID_NOT_FOUND') throw new OperationalError(`unknown group '${g.groupId}' (GROUP_ID_NOT_FOUND: it never committed an offset or had a member, or was deleted)`)
  if (g.error) throw g.error
  return g
}
