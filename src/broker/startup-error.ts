/**
 * A reason the broker cannot start, said in one line that names the cause and what to do
 * (the CLI prints it and exits 1). Anything else thrown at start is a bug and keeps its stack.
 */
export class StartupError extends Error {
  override name = 'StartupError'
}

/** Explanations of the system errors a user meets at start, by errno code. */
const CAUSES: Record<string, string> = {
  EADDRINUSE: 'the address is in use by another process (choose another --port, or 0 for a free one)',
  EADDRNOTAVAIL: 'no network interface of this machine has that address',
  ENOTFOUND: 'not an IP address or a known host name',
  EAI_AGAIN: 'the host name could not be resolved',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'it exists and is not a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
}

/** `what` failed because of `err`, in one line: "cannot listen on 127.0.0.1:9092: the address is in use … (EADDRINUSE)". */
export function startupError(what: string, err: unknown): StartupError {
  if (err instanceof StartupError) return err
  const code = (err as NodeJS.ErrnoException)?.code
  const cause = code !== undefined && CAUSES[code] !== undefined ? `${CAUSES[code]} (${code})` : ((err as Error)?.message ?? String(err))
  return new StartupError(`${what}: ${cause}`, { cause: err })
}
