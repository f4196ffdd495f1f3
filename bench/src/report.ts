import { cpus, loadavg, platform, release, totalmem } from 'node:os'

/** One figure for one client count: Cardfile's, the bare relay's, and the figure to beat. */
export interface Row {
  readonly figure: string
  readonly clients: string
  readonly cardfile: number | null
  readonly bare: number | null
  readonly unit: string
  readonly digits: number
  /** From the issue: a published Redis-backed Yjs server's figure. */
  readonly reference?: number
}

/**
 * The machine the figures come from, in one line, with its 1-minute load average: other work
 * on the machine slows both servers, and the load says how much to trust absolute figures.
 */
export function describeMachine(): string {
  const cores = cpus()
  const model = cores[0]?.model.trim() ?? 'unknown CPU'
  const memory = (totalmem() / 2 ** 30).toFixed(1)
  const load = (loadavg()[0] ?? 0).toFixed(2)
  return (
    `${model}, ${cores.length} cores, ${memory} GiB RAM, ${platform()} ${release()}, ` +
    `Node ${process.version}, load average ${load}`
  )
}

const format = (value: number | null, unit: string, digits: number): string => {
  if (value === null || !Number.isFinite(value)) return 'n/a'
  const number = value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  })
  return unit === '' ? number : `${number} ${unit}`
}

/** Renders the rows as a Markdown table, ready to paste into the README. */
export function renderTable(rows: readonly Row[]): string {
  const header = ['figure', 'clients', 'Cardfile', 'bare ws relay', 'ratio', 'to beat']
  const lines = rows.map((row) => {
    const ratio =
      row.cardfile !== null && row.bare !== null && row.bare !== 0
        ? (row.cardfile / row.bare).toFixed(2)
        : 'n/a'
    return [
      row.figure,
      row.clients,
      format(row.cardfile, row.unit, row.digits),
      format(row.bare, row.unit, row.digits),
      ratio,
      row.reference === undefined ? '' : format(row.reference, row.unit, 1),
    ]
  })
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...lines.map((line) => (line[column] ?? '').length)),
  )
  const render = (cells: readonly string[]): string =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`
  return [
    render(header),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...lines.map(render),
  ].join('\n')
}
