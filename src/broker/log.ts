// Structured JSON logs, one object per line on stderr.
export type Level = 'debug' | 'info' | 'warn' | 'error'

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
}

export function jsonLogger(base: Record<string, unknown>, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const emit = (level: Level) => (msg: string, fields: Record<string, unknown> = {}) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields }) + '\n')
  return { info: emit('info'), warn: emit('warn'), error: emit('error') }
}
