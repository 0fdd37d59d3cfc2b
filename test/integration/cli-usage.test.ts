// Usage errors of the client commands, in process: each is a UsageError (exit 2) raised while
// reading the flags, before any connection is attempted (no broker runs here).
import t from 'tap'
import { consumeCommand } from '../../src/cli/consume.js'
import { failureOf, UsageError } from '../../src/cli/errors.js'
import { produceCommand } from '../../src/cli/produce.js'
import { topicsCommand } from '../../src/cli/topics.js'

// Nothing listens here: reaching the network would fail differently (an OperationalError).
const bs = ['--bootstrap-server', 'ws://127.0.0.1:9/']

const cases: Array<[string, () => Promise<number>, RegExp]> = [
  ['topics create, bad count', () => topicsCommand(['create', 'x', '--partitions', 'many', ...bs]), /--partitions: expected an integer >= 1, got 'many'/],
  ['topics create, zero partitions', () => topicsCommand(['create', 'x', '--partitions', '0', ...bs]), /--partitions: expected an integer >= 1/],
  ['topics create, bad replication', () => topicsCommand(['create', 'x', '--replication-factor', '1.5', ...bs]), /--replication-factor/],
  ['topics create, no topic', () => topicsCommand(['create', ...bs]), /topics create: missing TOPIC/],
  ['topics create, two topics', () => topicsCommand(['create', 'a', 'b', ...bs]), /unexpected argument 'b'/],
  ['topics create, bad config', () => topicsCommand(['create', 'x', '--config', 'novalue', ...bs]), /--config: expected KEY=VALUE, got 'novalue'/],
  ['topics alter, nothing to do', () => topicsCommand(['alter', 'x', ...bs]), /at least one --set K=V or --reset K/],
  ['topics alter, set and reset', () => topicsCommand(['alter', 'x', '--set', 'a=1', '--reset', 'a', ...bs]), /'a' is both set and reset/],
  ['topics, unknown subcommand', () => topicsCommand(['rename', 'x']), /unknown subcommand 'rename'/],
  ['topics list, not a ws URL', () => topicsCommand(['list', '--bootstrap-server', 'http://127.0.0.1:1/']), /ws:\/\/ or wss:\/\//],
  ['topics list, stray argument', () => topicsCommand(['list', 'x', ...bs]), /unexpected argument 'x'/],
  ['produce, bad acks', () => produceCommand(['t', '--acks', '2', ...bs]), /--acks: expected one of 0, 1, all, -1, got '2'/],
  ['produce, bad compression', () => produceCommand(['t', '--compression', 'zip', ...bs]), /--compression: expected one of none, gzip, snappy, lz4/],
  ['produce, negative partition', () => produceCommand(['t', '--partition', '-1', ...bs]), /--partition: expected an integer >= 0/],
  ['produce, empty separator', () => produceCommand(['t', '--key-separator', '', ...bs]), /--key-separator: must not be empty/],
  ['produce, bad header', () => produceCommand(['t', '--header', 'x', ...bs]), /--header: expected KEY=VALUE/],
  ['produce, bad encoding', () => produceCommand(['t', '--value-encoding', 'latin1', ...bs]), /--value-encoding: expected one of utf8, base64, hex/],
  ['produce, no topic', () => produceCommand([...bs]), /produce: missing TOPIC/],
  ['produce, flag without value', () => produceCommand(['t', '--acks']), /'--acks' needs a value/],
  ['consume, both starts', () => consumeCommand(['t', '--from-beginning', '--offset', '3', ...bs]), /--from-beginning or --offset, not both/],
  ['consume, bad offset', () => consumeCommand(['t', '--offset', 'soon', ...bs]), /--offset: expected an integer >= 0/],
  ['consume, json and format', () => consumeCommand(['t', '--json', '--format', '%s', ...bs]), /--format or --json, not both/],
  ['consume, bad directive', () => consumeCommand(['t', '--format', '%q', ...bs]), /--format: unknown directive '%q'/],
  ['consume, zero messages', () => consumeCommand(['t', '--max-messages', '0', ...bs]), /--max-messages: expected an integer >= 1/],
  ['consume, bad timeout', () => consumeCommand(['t', '--timeout-ms', 'x', ...bs]), /--timeout-ms: expected an integer >= 1/],
  ['consume, bad key encoding', () => consumeCommand(['t', '--key-encoding', 'utf16', ...bs]), /--key-encoding: expected one of/],
  ['consume, boolean with value', () => consumeCommand(['t', '--json=yes', ...bs]), /'--json' takes no value/],
]

for (const [name, run, pattern] of cases) {
  t.test(name, async (t) => {
    const err = await run().then(() => null, (e: unknown) => e)
    t.type(err, UsageError)
    t.match((err as Error).message, pattern)
    t.equal(failureOf(err)?.exitCode, 2)
  })
}
