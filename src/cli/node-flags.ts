// The Node flags a process that moves bulk data runs with: this file's NODE_FLAGS for what
// spawns brokers and perf workloads from TypeScript, the same text in main.ts's shebang (so
// `bitacora …` has them) and in cluster.sh (test/node-flags.test.ts keeps the three in step).
// V8 reads them only at start-up (not from NODE_OPTIONS, which refuses them, nor later from
// v8.setFlagsFromString), so the command line is the only place for them.
//
// --initial-heap-size=64: V8 sizes the old generation's limit to the live heap (~13 MB in a
// broker) and counts the bytes of every Buffer that outlives a young collection against it. At
// a few hundred MB/s of records some batch, fetch answer or socket read is always in flight
// when one runs, so a broker started a full mark-compact every ~100 ms for nothing (its heap
// stayed at 13 MB). A 64 MiB floor under that limit ends it: 3 brokers RF=3, 10 M records
// (perf/rf3.ts): full GCs per broker 126-255 -> 0-1, broker CPU per record halved, 785 k -> 1.19 M
// records/s; a 1 KiB consumer 458-564 -> 766-839 MB/s; peak RSS unchanged (~110-130 MB).
export const NODE_FLAGS: readonly string[] = ['--initial-heap-size=64']

/** The flags of NODE_FLAGS this process was started without. */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return NODE_FLAGS.filter((flag) => !execArgv.includes(flag))
}
