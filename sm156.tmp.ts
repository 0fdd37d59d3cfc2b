import { runShellSeed } from './src/sim/shell-simulation.js'
const orig = Error.captureStackTrace
process.on('unhandledRejection', (e) => console.log('UNHANDLED', e))
const r = await runShellSeed({ seed: 156, stateMachine: true })
console.log(r.failure)
