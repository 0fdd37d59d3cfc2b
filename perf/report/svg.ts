// Horizontal bar charts as standalone SVG (no charting dependency): one row per label, one bar
// per series, optional vertical reference lines (machine limits), linear or log scale.

export interface Series {
  name: string
  color: string
}

export interface ChartRow {
  label: string
  /** One value per series; null draws nothing. */
  values: Array<number | null>
}

export interface Chart {
  title: string
  unit: string
  series: Series[]
  rows: ChartRow[]
  references?: Array<{ label: string; value: number }>
  log?: boolean
}

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b']

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function fmt(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k`
  if (v >= 100) return v.toFixed(0)
  if (v >= 1) return v.toFixed(1)
  return v.toPrecision(2)
}

export function barChart(c: Chart): string {
  const labelW = 230
  const plotW = 480
  const barH = 12
  const rowGap = 10
  const top = 40 + (c.series.length > 1 ? 18 : 0)
  const rowH = c.series.length * barH + rowGap
  const height = top + c.rows.length * rowH + 30
  const width = labelW + plotW + 90
  const values = c.rows.flatMap((r) => r.values.filter((v): v is number => v !== null && v > 0))
  const refs = c.references ?? []
  const max = Math.max(1e-9, ...values, ...refs.map((r) => r.value)) * 1.05
  const min = c.log ? Math.max(1e-3, Math.min(...values, ...refs.map((r) => r.value)) / 2) : 0
  const x = (v: number) =>
    c.log ? (Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min)) * plotW : (v / max) * plotW
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`)
  out.push(`<rect width="100%" height="100%" fill="white"/>`)
  out.push(`<text x="8" y="18" font-size="14" font-weight="bold">${esc(c.title)}</text>`)
  out.push(`<text x="8" y="33" fill="#555">${esc(c.unit)}${c.log ? ' (log scale)' : ''}</text>`)
  if (c.series.length > 1) {
    let lx = labelW
    for (const s of c.series) {
      out.push(`<rect x="${lx}" y="${top - 16}" width="10" height="10" fill="${s.color}"/><text x="${lx + 14}" y="${top - 7}">${esc(s.name)}</text>`)
      lx += 24 + s.name.length * 6.5
    }
  }
  c.rows.forEach((row, i) => {
    const y0 = top + i * rowH
    out.push(`<text x="${labelW - 6}" y="${y0 + (c.series.length * barH) / 2 + 4}" text-anchor="end">${esc(row.label)}</text>`)
    row.values.forEach((v, j) => {
      if (v === null) return
      const w = Math.max(1, x(v))
      const y = y0 + j * barH
      out.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${c.series[j]!.color}"/>`)
      out.push(`<text x="${labelW + w + 4}" y="${y + barH - 3}" fill="#333">${fmt(v)}</text>`)
    })
  })
  const bottom = top + c.rows.length * rowH
  out.push(`<line x1="${labelW}" y1="${top - 4}" x2="${labelW}" y2="${bottom}" stroke="#999"/>`)
  refs.forEach((r, i) => {
    const rx = labelW + x(r.value)
    out.push(`<line x1="${rx.toFixed(1)}" y1="${top - 4}" x2="${rx.toFixed(1)}" y2="${bottom}" stroke="#c00" stroke-dasharray="4 3"/>`)
    out.push(`<text x="${rx.toFixed(1)}" y="${bottom + 14 + i * 12}" fill="#c00" text-anchor="middle">${esc(r.label)} ${fmt(r.value)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n')
}
