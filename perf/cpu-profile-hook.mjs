// Preloaded with NODE_OPTIONS="--import perf/cpu-profile-hook.mjs" (which may not carry --cpu-prof
// itself) to profile child processes such as brokers: writes DIR/<pid>.cpuprofile (DIR from
// BITACORA_CPU_PROFILE_DIR), readable by Chrome DevTools. By default it samples from start to
// exit; with BITACORA_CPU_PROFILE_ON_SIGNAL=1 only between a first SIGUSR2 and a second one (an
// idle window without the start-up), and the file is written at the second.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { join } from 'node:path'

const dir = process.env.BITACORA_CPU_PROFILE_DIR
if (dir) {
  const session = new Session()
  session.connect()
  session.post('Profiler.enable')
  // An in-process session answers synchronously, so this works inside 'exit'.
  const stop = () =>
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile))
    })
  if (process.env.BITACORA_CPU_PROFILE_ON_SIGNAL === '1') {
    let running = false
    process.on('SIGUSR2', () => {
      if (running) stop()
      else session.post('Profiler.start')
      running = !running
    })
  } else {
    session.post('Profiler.start')
    process.once('exit', stop)
  }
}
