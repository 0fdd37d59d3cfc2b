// This machine's disk, measured in the run: sequential write MiB/s (1 MiB writes, one fdatasync
// at the end, counted in the time), the CPU time per MiB of the writes and, apart, of the
// fdatasync (on a virtual machine, putting new data in the page cache can cost a core's worth,
// and that is CPU a broker shares with its clients), and the rate of 4 KiB append + fdatasync:
// the ceiling of any log that acknowledges only flushed data without group commit. Files in the
// temp dir the servers use; bounded by time and bytes.
import * as fs from 'node:fs'
import { join } from 'node:path'
import { removeDir, tempDir } from '../processes.js'
import { cpuMsSince } from './cpu.js'

export interface DiskLimits {
  seqWriteMiBps: number
  /**
   * CPU ms (user + system) per MiB of the sequential writes, and of the one fdatasync after
   * them (a broker's fsync runs on another thread). Absent in results from before 2026-12-02.
   */
  seqWriteCpuMsPerMiB?: number
  seqSyncCpuMsPerMiB?: number
  fsyncsPerSec: number
  fsyncAvgMs: number
}

const BYTES_CAP = 512 * 1024 * 1024

export function measureDisk(seconds: number): DiskLimits {
  const dir = tempDir('disk')
  try {
    const chunk = Buffer.alloc(1024 * 1024, 7)
    let fd = fs.openSync(join(dir, 'seq'), 'w')
    let start = performance.now()
    const cpu = process.cpuUsage()
    let written = 0
    while (performance.now() - start < seconds * 1000 && written < BYTES_CAP) {
      fs.writeSync(fd, chunk, 0, chunk.length, written)
      written += chunk.length
    }
    const seqCpuMs = cpuMsSince(cpu)
    const beforeSync = process.cpuUsage()
    fs.fdatasyncSync(fd)
    const syncCpuMs = cpuMsSince(beforeSync)
    const seqSeconds = (performance.now() - start) / 1000
    fs.closeSync(fd)
    fs.rmSync(join(dir, 'seq'))

    const small = Buffer.alloc(4096, 9)
    fd = fs.openSync(join(dir, 'sync'), 'w')
    start = performance.now()
    let syncs = 0
    while (performance.now() - start < seconds * 1000 && syncs < 100_000) {
      fs.writeSync(fd, small, 0, small.length, syncs * small.length)
      fs.fdatasyncSync(fd)
      syncs++
    }
    const syncMs = performance.now() - start
    fs.closeSync(fd)
    const mib = written / 1048576
    return { seqWriteMiBps: mib / seqSeconds, seqWriteCpuMsPerMiB: seqCpuMs / mib, seqSyncCpuMsPerMiB: syncCpuMs / mib, fsyncsPerSec: syncs / (syncMs / 1000), fsyncAvgMs: syncMs / syncs }
  } finally {
    removeDir(dir)
  }
}
