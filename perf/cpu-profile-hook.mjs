// Preloaded with NODE_OPTIONS="--import perf/cpu-profile-hook.mjs" (which may not carry --cpu-prof
// itself) to profile child processes such as brokers: samples the CPU from start to exit and
// writes DIR/<pid>.cpuprofile (DIR from BITACORA_CPU_PROFILE_DIR), readable by Chrome DevTools.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { join } from 'node:path'

const dir = process.env.BITACORA_CPU_PROFILE_DIR
if (dir) {
  const session = new Session()
  session.connect()
  session.post('Profiler.enable')
  session.post('Profiler.start')
  // An in-process session answers synchronously, so this works inside 'exit'.
  process.once('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile))
    })
  })
}
