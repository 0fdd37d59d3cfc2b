// Text tables as the Kafka tools print them: columns padded to their widest cell.

/** Columns padded to their widest cell, two spaces apart (the last column unpadded). */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)))
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  '))
}
