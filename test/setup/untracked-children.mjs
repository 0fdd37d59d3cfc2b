// Loaded into every test process by scripts/test.mjs when coverage is off. tap tracks each
// process a test starts (brokers, CLI commands, perf runs) by adding its own --import to every
// spawn; the hook runs an ESM loader thread in each child and doubles a CLI command's start-up
// (0.3 s → 0.6 s). Without coverage nothing uses that tracking, so children start plain: the
// hook's listeners live in process-on-spawn's shared state (a global symbol), and NODE_OPTIONS
// loses tap's --import.
const state = globalThis[Symbol.for('process-on-spawn@*:singletonId')]
if (state) state.listeners = []
process.env.NODE_OPTIONS = (process.env.NODE_OPTIONS ?? '').split(/\s+/).filter((o) => !o.includes('@tapjs/processinfo')).join(' ')
