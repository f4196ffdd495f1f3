import { cpus, loadavg, platform, release, totalmem } from 'node:os'
import type { ServerKind } from './ipc'

/** What a goal compares Cardfile's figure with: a peer's figure in the same run, or a fixed one. */
export type GoalBasis = ServerKind | 'reference'

/** A goal of the performance issue: Cardfile's figure at most `atMost` times the basis. */
export interface Goal {
  readonly against: GoalBasis
  readonly atMost: number
}

/** One figure for one setting: each server's value, measured in the same run. */
export interface Row {
  readonly figure: string
  /** The setting: a client count, a document count, a workload. */
  readonly clients: string
  readonly values: Readonly<Partial<Record<ServerKind, number | null>>>
  /** A fixed figure the goal compares with (a re-encoding's size, say), when not a server's. */
  readonly reference?: number
  readonly unit: string
  readonly digits: number
  readonly goal?: Goal
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

const format = (value: number | null | undefined, unit: string, digits: number): string => {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a'
  const number = value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  })
  return unit === '' ? number : `${number} ${unit}`
}

const ratioOf = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a === null || a === undefined || b === null || b === undefined || b === 0 || !Number.isFinite(a)
    ? null
    : a / b

const GOAL_NAMES: Record<GoalBasis, string> = {
  cardfile: 'Cardfile',
  hocuspocus: 'Hocuspocus',
  bare: 'bare',
  reference: 'reference',
}

/** `met`, `not met` or `n/a` for a row's goal. */
export function goalVerdict(row: Row): string {
  if (row.goal === undefined) return ''
  const basis = row.goal.against === 'reference' ? row.reference : row.values[row.goal.against]
  const ratio = ratioOf(row.values.cardfile, basis)
  const target = `<= ${row.goal.atMost.toFixed(1)}x ${GOAL_NAMES[row.goal.against]}`
  if (ratio === null) return `${target}: n/a`
  return `${target}: ${ratio <= row.goal.atMost ? 'met' : 'not met'}`
}

/**
 * Renders the rows as a Markdown table, ready to paste into the README: each server's figure,
 * Cardfile's ratio to Hocuspocus and to the bare relay, and the goal's verdict.
 */
export function renderTable(rows: readonly Row[]): string {
  const header = [
    'figure',
    'setting',
    'Cardfile',
    'Hocuspocus',
    'bare ws relay',
    'ref.',
    '/ Hocuspocus',
    '/ bare',
    'goal',
  ]
  const ratioCell = (row: Row, other: number | null | undefined): string => {
    const ratio = ratioOf(row.values.cardfile, other)
    return ratio === null ? '' : ratio.toFixed(2)
  }
  const lines = rows.map((row) => [
    row.figure,
    row.clients,
    format(row.values.cardfile, row.unit, row.digits),
    format(row.values.hocuspocus, row.unit, row.digits),
    format(row.values.bare, row.unit, row.digits),
    row.reference === undefined ? '' : format(row.reference, row.unit, row.digits),
    ratioCell(row, row.values.hocuspocus),
    ratioCell(row, row.values.bare),
    goalVerdict(row),
  ])
  // Columns no row fills (no reference figure this run, say) are left out.
  const used = header.map(
    (_, column) => column < 2 || lines.some((line) => !['', 'n/a'].includes(line[column] ?? '')),
  )
  const keep = <T>(cells: readonly T[]): T[] => cells.filter((_, column) => used[column])
  const shown = [keep(header), ...lines.map(keep)]
  const widths = shown[0]!.map((_, column) =>
    Math.max(...shown.map((line) => (line[column] ?? '').length)),
  )
  const render = (cells: readonly string[]): string =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`
  return [
    render(shown[0]!),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...shown.slice(1).map(render),
  ].join('\n')
}
