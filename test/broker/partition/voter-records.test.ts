// The voter sets beside a partition's log (voter-sets) and the voter records in it carry the
// voters' directory ids (KIP-853) where known, and files and records written without them
// still read (every directory id unknown).
import t from 'tap'
import { loadCodec } from '../../../src/codec/index.js'
import { parseVoterRecord, voterRecordsIn, votersBatch } from '../../../src/broker/partition/control-records.js'
import { decodeVoterSets, encodeVoterSets } from '../../../src/broker/partition/voter-sets.js'
import { encodeCheckedText } from '../../../src/storage/index.js'

const codec = await loadCodec()
const crc = (b: Uint8Array) => codec.crc32c(b)
const D1 = '5b0c1c8e-6b8a-4c1e-9d3f-0a1b2c3d4e5f'
const D2 = 'e4b7f0a2-1c3d-4e5f-8a9b-0c1d2e3f4a5b'

t.test('voter-sets: directory ids round-trip; a file without them reads as before', async (t) => {
  const sets = [{ offset: -1, voters: [1, 2, 3] }, { offset: 7, voters: [1, 2, 3], directoryIds: { 1: D1, 2: D2 } }]
  const bytes = encodeVoterSets(sets, crc)
  t.match(new TextDecoder().decode(bytes), /^bitacora-voter-sets 2\n2\n-1 1,2,3\n7 1@5b0c.*,2@e4b7.*,3\n/, 'version 2, id@directory where known')
  t.same(decodeVoterSets(bytes, crc), sets)
  const old = encodeCheckedText('bitacora-voter-sets', ['1', '-1 1,2,3'], crc)
  t.same(decodeVoterSets(old, crc), [{ offset: -1, voters: [1, 2, 3] }], 'a version 1 file: no directory ids')
  t.match(new TextDecoder().decode(encodeVoterSets([{ offset: -1, voters: [1] }], crc)), /^bitacora-voter-sets 1\n/, 'still written as version 1 while none is known')
  const damaged = encodeCheckedText('bitacora-voter-sets', ['1', '-1 1@,2'], crc, 2)
  t.throws(() => decodeVoterSets(damaged, crc), { code: 'CORRUPT_FILE', message: /voter "1@"/ })
})

t.test('voter records: version 1 names directory ids, version 0 records still parse', async (t) => {
  const batch = votersBatch(codec, 3, [1, 2, 3], { 2: D2 }, 1000)
  t.same(voterRecordsIn(codec, batch).map(({ voters, directoryIds }) => ({ voters, directoryIds })), [{ voters: [1, 2, 3], directoryIds: { 2: D2 } }])
  const plain = voterRecordsIn(codec, votersBatch(codec, 3, [3, 1], undefined, 1000))
  t.same(plain.map((s) => Object.keys(s).sort()), [['offset', 'voters']], 'no directory ids: none reported')
  t.same(parseVoterRecord(new TextEncoder().encode('{"version":0,"voters":[2,1]}')), { voters: [1, 2] })
  t.throws(() => parseVoterRecord(new TextEncoder().encode(`{"version":1,"voters":[1],"directoryIds":{"4":"${D1}"}}`)), /malformed voter record/, 'a directory id for a non-voter')
  t.throws(() => parseVoterRecord(new TextEncoder().encode('{"version":1,"voters":[1],"directoryIds":{"1":7}}')), /malformed voter record/)
})
