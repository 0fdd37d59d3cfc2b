// Where the two worlds meet: the WASM module's copy of the codec's layouts
// (assembly/layout.ts) and its return codes (assembly/errors.ts), exported as immutable
// globals, against layout.ts and errors.ts, compared once when the module loads. A module
// built from a layout that drifted fails to load, naming the field, instead of misreading
// batches.
import { CodecError, WASM_ERRORS } from './errors.js'
import {
  ATTR_COMPRESSION_MASK, BATCH_HEADER, BATCH_HEADER_BYTES, BATCH_MAGIC, CRC_START, HEADER_BYTES_MIN,
  HEADER_INDEX_INTS, HEADER_INDEX_SLOT, LOG_OVERHEAD_BYTES, RECORD_BYTES_MIN, RECORD_INDEX_INTS,
  RECORD_INDEX_SLOT, STAGED_LENGTH_BYTES, STAGED_TIMESTAMP_DELTA_BYTES,
} from './layout.js'
import { COMPRESSION_CODECS } from './types.js'

/** One constant the module must export: its export name, the value TypeScript gives it, and what it is. */
export interface LayoutConstant {
  readonly exportName: string
  readonly value: number
  readonly what: string
}

/** lastOffsetDelta -> LAST_OFFSET_DELTA: how assembly/layout.ts spells a layout.ts name. */
const constantCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()

/** Every constant of layout.ts and every return code of errors.ts, under the name the module exports it by. */
export function expectedLayout(): LayoutConstant[] {
  const out: LayoutConstant[] = []
  const add = (exportName: string, value: number, what: string) => out.push({ exportName, value, what })
  for (const [field, { at, bytes }] of Object.entries(BATCH_HEADER)) {
    add(`HEADER_${constantCase(field)}_AT`, at, `batch header field ${field}: offset`)
    add(`HEADER_${constantCase(field)}_BYTES`, bytes, `batch header field ${field}: size in bytes`)
  }
  add('BATCH_HEADER_BYTES', BATCH_HEADER_BYTES, 'batch header size in bytes')
  add('LOG_OVERHEAD_BYTES', LOG_OVERHEAD_BYTES, 'bytes before what batchLength counts')
  add('CRC_START', CRC_START, 'offset where the batch CRC starts')
  add('BATCH_MAGIC', BATCH_MAGIC, 'batch magic')
  add('ATTR_COMPRESSION_MASK', ATTR_COMPRESSION_MASK, 'attributes bits of the compression codec')
  add('COMPRESSION_CODEC_MAX', COMPRESSION_CODECS.length - 1, 'largest compression codec id')
  add('RECORD_BYTES_MIN', RECORD_BYTES_MIN, 'smallest record in bytes')
  add('HEADER_BYTES_MIN', HEADER_BYTES_MIN, 'smallest record header in bytes')
  for (const [slot, i] of Object.entries(RECORD_INDEX_SLOT)) {
    add(`RECORD_INDEX_${constantCase(slot)}_SLOT`, i, `record index slot ${slot}`)
  }
  add('RECORD_INDEX_INTS', RECORD_INDEX_INTS, 'record index slots per record')
  for (const [slot, i] of Object.entries(HEADER_INDEX_SLOT)) {
    add(`HEADER_INDEX_${constantCase(slot)}_SLOT`, i, `header index slot ${slot}`)
  }
  add('HEADER_INDEX_INTS', HEADER_INDEX_INTS, 'header index slots per header')
  add('STAGED_TIMESTAMP_DELTA_BYTES', STAGED_TIMESTAMP_DELTA_BYTES, 'staged record timestamp delta size in bytes')
  add('STAGED_LENGTH_BYTES', STAGED_LENGTH_BYTES, 'staged record length and count size in bytes')
  for (const [name, { rc, code }] of Object.entries(WASM_ERRORS)) add(name, rc, `return code of ${code} (errors.ts)`)
  return out
}

const EXPECTED = expectedLayout()

/**
 * How the module's exported constants differ from `expected`, one line each: a constant it
 * lacks or has with another value, and one it exports that `expected` does not know (every
 * global the module exports is a layout constant). Empty when they agree.
 */
export function layoutMismatches(exports: WebAssembly.Exports, expected: readonly LayoutConstant[] = EXPECTED): string[] {
  const problems: string[] = []
  const known = new Set<string>()
  for (const { exportName, value, what } of expected) {
    known.add(exportName)
    const global = exports[exportName]
    if (!(global instanceof WebAssembly.Global)) {
      problems.push(`${what}: the module does not export ${exportName} (TypeScript has ${value})`)
    } else if (global.value !== value) {
      problems.push(`${what}: the module's ${exportName} is ${String(global.value)}, TypeScript has ${value}`)
    }
  }
  for (const [name, item] of Object.entries(exports)) {
    if (item instanceof WebAssembly.Global && !known.has(name)) {
      problems.push(`the module exports ${name} = ${String(item.value)}, which TypeScript does not define`)
    }
  }
  return problems
}

/** Throws CODEC_INTERNAL, naming every mismatched constant, unless the module agrees with `expected`. */
export function checkLayout(exports: WebAssembly.Exports, expected: readonly LayoutConstant[] = EXPECTED): void {
  const problems = layoutMismatches(exports, expected)
  if (problems.length > 0) {
    throw new CodecError(
      'CODEC_INTERNAL',
      `the codec WASM module disagrees with src/codec (rebuild it with npm run build:wasm; if it still ` +
        `disagrees, make assembly/layout.ts and assembly/errors.ts match src/codec/layout.ts and errors.ts): ${problems.join('; ')}`,
    )
  }
}
