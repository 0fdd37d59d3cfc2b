// Public surface of the protocol: generated message types, frames, the error table, limits.
export { bitacora } from './pb.js'
export * from './errors.js'
export * from './frames.js'
export * from './frame-writer.js'
export * from './limits.js'
