/** One figure of the hooks benchmark: a value, what it is compared with, and their ratio. */
export interface HookRow {
  readonly figure: string
  readonly value: number | null
  readonly comparison: number | null
  readonly unit: string
  readonly digits: number
}

const format = (value: number | null, unit: string, digits: number): string => {
  if (value === null || !Number.isFinite(value)) return 'n/a'
  const number = value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  })
  return unit === '' ? number : `${number} ${unit}`
}

/**
 * Renders the rows as a Markdown table (figure, value, comparison, ratio = value / comparison),
 * ready to paste into the README.
 *
 * @example
 * console.log(renderHookTable([{ figure: 'p50', value: 2, comparison: 8, unit: 'ms', digits: 2 }]))
 */
export function renderHookTable(rows: readonly HookRow[]): string {
  const header = ['figure', 'value', 'comparison', 'ratio']
  const lines = rows.map((row) => [
    row.figure,
    format(row.value, row.unit, row.digits),
    format(row.comparison, row.unit, row.digits),
    row.value !== null && row.comparison !== null && row.comparison !== 0
      ? (row.value / row.comparison).toFixed(row.value / row.comparison < 0.01 ? 4 : 2)
      : 'n/a',
  ])
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
