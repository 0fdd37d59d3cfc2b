// The generated protobuf code, configured so int64 fields decode as JS numbers (Bitácora's
// policy: offsets and timestamps are numbers, exact below 2^53). The configuration must run
// before the generated module loads (its defaults are computed at load), hence this module:
// import the generated code only from here.
import './long-as-number.js'
export { bitacora } from './generated/bitacora.js'
