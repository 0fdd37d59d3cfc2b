// Usage errors of the client commands, in process: each is a UsageError (exit 2) raised while
// reading the flags, before any connection is attempted (no broker runs here).
import t from 'tap'
import { completionCommand } from '../../src/cli/completion.js'
import { consumeCommand } from '../../src/cli/consume.js'
import { failureOf, UsageError } from '../../src/cli/errors.js'
import { perfCommand } from '../../src/cli/perf.js'
import { produceCommand } from '../../src/cli/produce.js'
import { topicsCommand } from '../../src/cli/topics.js'

// Nothing listens here: reaching the network would fail differently (an OperationalError).
const bs = ['--bootstrap-server', 'ws://127.0.0.1:9/']

const cases: Array<[string, () => Promise<number>, RegExp]> = [
  ['perf, request bytes too small', () => perfCommand(['produce', '--num-records', '1', '--record-size', '1', '--throughput', '-1', '--request-bytes-max', '1', ...bs]), /--request-bytes-max: expected an integer in/],
  ['perf consume, bad idle timeout', () => perfCommand(['consume', '--messages', '1', '--timeout-ms', '0', ...bs]), /--timeout-ms: expected an integer >= 1/],
  ['topics list, stray -o', () => topicsCommand(['list', '-o', '1', ...bs]), /topics list: unknown option '-o'/],
  ['completion, unknown shell', async () => completionCommand(['fish']), /completion: unknown shell 'fish' \(bash, zsh\)/],
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
  ['produce, bad key encoding', () => produceCommand(['t', '--key-encoding', 'latin1', ...bs]), /--key-encoding: expected one of utf8, base64, hex/],
  ['produce, key not in its encoding', () => produceCommand(['t', '-k', 'zz', '--key-encoding', 'hex', ...bs]), /--key: key is not hex: 'zz'/],
  ['produce, key and separator', () => produceCommand(['t', '-k', 'a', '-K', ':', ...bs]), /give --key or --key-separator, not both/],
  ['produce, request bytes too small', () => produceCommand(['t', '--request-bytes-max', '100', ...bs]), /--request-bytes-max: expected an integer in \[1024, 2147483647\]/],
  ['produce, request bytes not a number', () => produceCommand(['t', '--request-bytes-max', '4MiB', ...bs]), /--request-bytes-max: expected an integer/],
  ['produce, -t and TOPIC', () => produceCommand(['t', '-t', 'u', ...bs]), /not both/],
  ['produce, profile without a file', () => produceCommand(['t', '--profile', 'big', ...bs]), /--profile big: no client config file/],
  ['produce, missing client config', () => produceCommand(['t', '--client-config', '/nonexistent/bitacora.json', ...bs]), /cannot read it \(ENOENT\)/],
  ['consume, both starts', () => consumeCommand(['t', '--from-beginning', '--offset', '3', ...bs]), /give one of --offset, --from-beginning, not several/],
  ['consume, offset and time', () => consumeCommand(['t', '-o', '-3', '--from-time', '0', ...bs]), /give one of --offset, --from-time/],
  ['consume, bad offset', () => consumeCommand(['t', '--offset', 'soon', ...bs]), /--offset: expected beginning, end, an offset N or -N/],
  ['consume, stored offset', () => consumeCommand(['t', '-o', 'stored', ...bs]), /the stored offsets are a consumer group's: give --group GROUP/],
  ['consume, bad time', () => consumeCommand(['t', '--from-time', 'yesterday', ...bs]), /--from-time: expected an ISO 8601 date/],
  ['consume, topic twice', () => consumeCommand(['t', '-t', 'u', ...bs]), /give the topic as TOPIC or -t\/--topic, not both/],
  ['consume, key separator and json', () => consumeCommand(['t', '-K', ':', '-J', ...bs]), /give --json or --key-separator, not both/],
  ['consume, empty key separator', () => consumeCommand(['t', '-K', '', ...bs]), /--key-separator: must not be empty/],
  ['consume, unknown short flag', () => consumeCommand(['t', '-k', 'x', ...bs]), /consume: unknown option '-k'/],
  ['consume, no topic', () => consumeCommand([...bs]), /consume: missing TOPIC/],
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
