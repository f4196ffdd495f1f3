import type { ContactIndexRow, Page } from '../storage/index-store'
import {
  encodeSearchCursor,
  matchesNothing,
  numberOf,
  rankByRelevance,
} from './contact-search-query'
import type { CheckedFilter, CheckedSearch, SearchCursor } from './contact-search-query'
import { contactSearchFields, matchesTokens, relevanceTier } from './search-text'

/** Byte order of UTF-8 (code point order), as SQLite's BINARY and PostgreSQL's "C" collation. */
const compareText = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))

const compareId = (a: string, b: string): number => compareText(a, b)

/** One attribute filter on a row's values, as the SQL engines evaluate it. */
export function filterHolds(values: Readonly<Record<string, string>>, f: CheckedFilter): boolean {
  const v = values[f.attributeId]
  if (typeof v !== 'string') return false
  switch (f.op) {
    case 'eq':
      return v === f.value
    case 'contains':
      return v.toLowerCase().includes(f.value.toLowerCase())
    case 'range': {
      if (f.numeric) {
        const n = numberOf(v)
        if (n === null) return false
        const min = numberOf(f.min)
        const max = numberOf(f.max)
        return (min === null || n >= min) && (max === null || n <= max)
      }
      return (
        (f.min === undefined || compareText(v, f.min) >= 0) &&
        (f.max === undefined || compareText(v, f.max) <= 0)
      )
    }
  }
}

interface Ranked {
  readonly row: ContactIndexRow
  readonly tier: number
  readonly sortName: string | null
}

/** The cursor after a result in the search's order. */
export function cursorAfter(search: CheckedSearch, r: Ranked): SearchCursor {
  switch (search.sort) {
    case 'updated':
      return { s: 'updated', r: 0, k: r.row.updatedAt, i: r.row.id }
    case 'name':
      return { s: 'name', r: 0, k: r.sortName, i: r.row.id }
    default:
      return { s: search.sort, r: r.tier, k: r.row.createdAt, i: r.row.id }
  }
}

/** Result order: negative when `a` comes first. */
function compare(search: CheckedSearch, a: Ranked, b: Ranked): number {
  switch (search.sort) {
    case 'updated':
      return b.row.updatedAt - a.row.updatedAt || compareId(b.row.id, a.row.id)
    case 'name':
      if (a.sortName === null || b.sortName === null) {
        if (a.sortName !== b.sortName) return a.sortName === null ? 1 : -1
        return compareId(a.row.id, b.row.id)
      }
      return compareText(a.sortName, b.sortName) || compareId(a.row.id, b.row.id)
    default:
      return b.tier - a.tier || b.row.createdAt - a.row.createdAt || compareId(b.row.id, a.row.id)
  }
}

/** A row stands for the cursor's position, to compare rows with it. */
function atCursor(c: SearchCursor): Ranked {
  const row = {
    id: c.i,
    createdAt: typeof c.k === 'number' ? c.k : 0,
    updatedAt: typeof c.k === 'number' ? c.k : 0,
  } as ContactIndexRow
  return { row, tier: c.r, sortName: typeof c.k === 'string' ? c.k : null }
}

/**
 * Contact search over rows in memory: the reference the SQL engines are tested against (the
 * same tokens, tiers, filters, order and cursors).
 *
 * @example
 * const page = searchInMemory(contacts.values(), 'demo', checkSearch({ text: 'ann', limit: 20 }))
 */
export function searchInMemory(
  rows: Iterable<ContactIndexRow>,
  workspace: string,
  search: CheckedSearch,
): Page<ContactIndexRow> {
  if (matchesNothing(search)) return { items: [], next: null }
  const ranked: Ranked[] = []
  const relevance = rankByRelevance(search)
  const after = search.after === null ? null : atCursor(search.after)
  for (const row of rows) {
    if (row.workspace !== workspace) continue
    if (search.channel !== undefined && row.channel !== search.channel) continue
    if (search.vip !== undefined && row.vip !== search.vip) continue
    if (!search.attributes.every((f) => filterHolds(row.values ?? {}, f))) continue
    const fields = contactSearchFields(row)
    if (search.text !== null && !matchesTokens(fields.words, search.text.tokens)) continue
    const entry: Ranked = {
      row,
      tier: relevance && search.text !== null ? relevanceTier(fields, search.text) : 0,
      sortName: fields.sortName,
    }
    if (after !== null && compare(search, entry, after) <= 0) continue
    ranked.push(entry)
  }
  ranked.sort((a, b) => compare(search, a, b))
  const items = ranked.slice(0, search.limit)
  const last = items.at(-1)
  return {
    items: items.map((r) => r.row),
    next:
      ranked.length > search.limit && last !== undefined
        ? encodeSearchCursor(cursorAfter(search, last))
        : null,
  }
}
