// Kafka's rule for topic names. Every legal name fits on disk: partition directories are named
// by topic id, never by name.

export const TOPIC_NAME_CHARS_MAX = 249

/** 1..249 characters of [a-zA-Z0-9._-], not "." or "..". Returns the problem, or null. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > TOPIC_NAME_CHARS_MAX) {
    return `topic name must be 1..${TOPIC_NAME_CHARS_MAX} characters, got ${name.length}`
  }
  if (name === '.' || name === '..') return `topic name cannot be "${name}"`
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `topic name "${name}" may only contain letters, digits, '.', '_' and '-'`
  return null
}
