// The load-time check that the WASM module's layouts and return codes (assembly/layout.ts,
// assembly/errors.ts) agree with src/codec/layout.ts and errors.ts: it passes for the module
// we build, and names the field when one side drifts. The drift is made in a module compiled
// here from an edited assembly/layout.ts, on a copy of the real module's exports (a global
// replaced, added or removed), or on the TypeScript table.
import t from 'tap'
import asc from 'assemblyscript/asc'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CodecError } from '../../src/codec/index.js'
import { BATCH_HEADER, BATCH_HEADER_BYTES, CRC_START, LOG_OVERHEAD_BYTES, RECORD_INDEX_SLOT } from '../../src/codec/layout.js'
import { checkLayout, expectedLayout, layoutMismatches } from '../../src/codec/layout-check.js'
import { instantiateCodec } from '../../src/codec/wasm.js'

const exports = (await instantiateCodec()) as unknown as WebAssembly.Exports
const i32 = (value: number) => new WebAssembly.Global({ value: 'i32', mutable: false }, value)

/** The message checkLayout throws for these exports (and table), or '' if it passes. */
function failure(wasm: WebAssembly.Exports, expected = expectedLayout()): string {
  try {
    checkLayout(wasm, expected)
    return ''
  } catch (err) {
    if (!(err instanceof CodecError) || err.code !== 'CODEC_INTERNAL') throw err
    return err.message
  }
}

/** The codec module compiled from assembly/ as the build does, with `edit` applied to assembly/layout.ts. */
async function compileWithLayout(edit: (source: string) => string): Promise<Uint8Array<ArrayBuffer>> {
  let binary: Uint8Array | undefined
  const { error, stderr } = await asc.main(
    ['assembly/index.ts', '--target', 'release', '--optimizeLevel', '0', '--outFile', 'drifted.wasm'],
    {
      readFile: async (name, baseDir) => {
        const source = await readFile(join(baseDir, name), 'utf8').catch(() => null)
        return source !== null && name.replaceAll('\\', '/').endsWith('assembly/layout.ts') ? edit(source) : source
      },
      writeFile: (name, contents) => {
        if (name === 'drifted.wasm') binary = contents as Uint8Array
      },
    },
  )
  if (error !== null || binary === undefined) throw new Error(`asc failed: ${error?.message} ${stderr.toString()}`)
  return new Uint8Array(binary)
}

t.test('the module we build agrees with src/codec', async (t) => {
  t.same(layoutMismatches(exports), [])
  t.ok(expectedLayout().some((c) => c.exportName === 'HEADER_LAST_OFFSET_DELTA_AT' && c.value === BATCH_HEADER.lastOffsetDelta.at), 'names follow assembly/layout.ts')
})

t.test('the TypeScript header layout is RecordBatch v2', async (t) => {
  // Kafka's DefaultRecordBatch offsets, written out by hand rather than derived.
  t.same(Object.entries(BATCH_HEADER).map(([name, f]) => [name, f.at, f.bytes]), [
    ['baseOffset', 0, 8], ['batchLength', 8, 4], ['partitionLeaderEpoch', 12, 4], ['magic', 16, 1],
    ['crc', 17, 4], ['attributes', 21, 2], ['lastOffsetDelta', 23, 4], ['baseTimestamp', 27, 8],
    ['maxTimestamp', 35, 8], ['producerId', 43, 8], ['producerEpoch', 51, 2], ['baseSequence', 53, 4],
    ['recordCount', 57, 4],
  ])
  t.same([BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, CRC_START], [61, 12, 21])
})

t.test('a module built from a drifted assembly/layout.ts does not load, and says which fields differ', async (t) => {
  const drifted = await compileWithLayout((source) => {
    const edited = source.replace('HEADER_CRC_BYTES: i32 = 4', 'HEADER_CRC_BYTES: i32 = 5')
    if (edited === source) throw new Error('assembly/layout.ts no longer declares HEADER_CRC_BYTES: i32 = 4')
    return edited
  })
  const err = await instantiateCodec(drifted).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof CodecError && err.code === 'CODEC_INTERNAL', 'CODEC_INTERNAL')
  const message = (err as Error).message
  t.match(message, /batch header field crc: size in bytes: the module's HEADER_CRC_BYTES is 5, TypeScript has 4/)
  t.match(message, /batch header field attributes: offset: the module's HEADER_ATTRIBUTES_AT is 22, TypeScript has 21/, 'and every field it moved')
  t.match(message, /the module's BATCH_HEADER_BYTES is 62, TypeScript has 61/)
  const unchanged = await compileWithLayout((source) => source)
  t.same(layoutMismatches((await instantiateCodec(unchanged)) as unknown as WebAssembly.Exports), [], 'the same build without the edit loads')
})

t.test('a module whose header field moved fails to load, naming the field', async (t) => {
  const message = failure({ ...exports, HEADER_CRC_AT: i32(BATCH_HEADER.crc.at + 1) })
  t.match(message, /batch header field crc: offset: the module's HEADER_CRC_AT is 18, TypeScript has 17/)
  t.match(message, /npm run build:wasm/, 'says what to do')
  t.notMatch(message, /attributes/, 'names only what differs')
})

t.test('a module with another record index slot or size fails, naming each mismatch', async (t) => {
  const message = failure({
    ...exports,
    RECORD_INDEX_KEY_LENGTH_SLOT: i32(RECORD_INDEX_SLOT.keyLength + 1),
    HEADER_PRODUCER_EPOCH_BYTES: i32(4),
  })
  t.match(message, /record index slot keyLength: the module's RECORD_INDEX_KEY_LENGTH_SLOT is 6, TypeScript has 5/)
  t.match(message, /batch header field producerEpoch: size in bytes: the module's HEADER_PRODUCER_EPOCH_BYTES is 4, TypeScript has 2/)
})

t.test('a constant missing from the module, or one TypeScript does not know, fails', async (t) => {
  const { BATCH_MAGIC: _, ...withoutMagic } = exports
  t.match(failure(withoutMagic), /batch magic: the module does not export BATCH_MAGIC \(TypeScript has 2\)/)
  t.match(failure({ ...exports, RECORD_INDEX_PARTITION_SLOT: i32(10) }), /the module exports RECORD_INDEX_PARTITION_SLOT = 10, which TypeScript does not define/)
})

t.test('a module whose return codes were renumbered fails, naming the code', async (t) => {
  t.match(failure({ ...exports, ERR_BATCH_BAD_CRC: i32(-40) }), /return code of BATCH_BAD_CRC \(errors\.ts\): the module's ERR_BATCH_BAD_CRC is -40, TypeScript has -4/)
})

t.test('a tampered TypeScript table fails against the real module', async (t) => {
  const tampered = expectedLayout().map((c) => (c.exportName === 'RECORD_INDEX_HEADER_COUNT_SLOT' ? { ...c, value: 8 } : c))
  t.match(failure(exports, tampered), /record index slot headerCount: the module's RECORD_INDEX_HEADER_COUNT_SLOT is 9, TypeScript has 8/)
  t.equal(failure(exports), '', 'the real table still passes')
})
