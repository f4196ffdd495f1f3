import type { ContactSqlRow } from '../storage/contact-sql-row'
import { toContactIndexRow } from '../storage/contact-sql-row'
import type { ContactIndexRow, Page } from '../storage/index-store'
import { encodeSearchCursor, rankByRelevance } from './contact-search-query'
import type { CheckedFilter, CheckedSearch } from './contact-search-query'
import { cursorAfter } from './memory-search'
import { MAX_KEY } from './search-text'

/** What differs between the SQL engines in a contact search; the rest is written once. */
export interface SearchDialect {
  /** The placeholder of the n-th parameter (1-based). */
  mark(n: number): string
  /** The FROM clause and the condition that keeps contacts whose words match `match`. */
  textMatch(match: string): { readonly from: string; readonly where: string }
  /** The engine's full-text query for tokens (letters and digits only): whole words, the last a prefix. */
  matchQuery(tokens: readonly string[]): string
  /** An attribute value's text: the expression and the parameter naming the attribute. */
  attribute(mark: string): string
  attributeParam(attributeId: string): string
  /** Lower case of a text, as JavaScript's toLowerCase. */
  lower(expr: string): string
  /** The number a text stands for (NUMBER_PATTERN), or NULL. */
  number(expr: string): string
  /** A text compared in code point order. */
  binary(expr: string): string
  /** True when `needle` occurs in `haystack`. */
  contains(haystack: string, needle: string): string
  /** ORDER BY of the name sort (display name A to Z, none last, then id). */
  readonly nameOrder: string
}

/** A contacts row with what the search query adds. */
export interface SearchSqlRow extends ContactSqlRow {
  sort_name: string | null
  tier: number
}

/**
 * The SQL of a checked contact search (not one that matches nothing: check first) and its
 * parameters.
 *
 * @example
 * const { sql, params } = searchSql('demo', search, sqliteSearchDialect)
 */
export function searchSql(
  workspace: string,
  search: CheckedSearch,
  d: SearchDialect,
): { readonly sql: string; readonly params: unknown[] } {
  const params: unknown[] = []
  const p = (value: unknown): string => {
    params.push(value)
    return d.mark(params.length)
  }
  const where: string[] = []
  let from = 'contacts c'
  const text = search.text
  if (text !== null) {
    const m = d.textMatch(p(d.matchQuery(text.tokens)))
    from = m.from
    where.push(m.where)
  }
  where.push(`c.workspace = ${p(workspace)}`)
  if (search.channel !== undefined) where.push(`c.channel = ${p(search.channel)}`)
  if (search.vip !== undefined) where.push(`c.vip = ${p(search.vip ? 1 : 0)}`)
  for (const f of search.attributes) where.push(filterSql(f, d, p))

  // The relevance tier, as relevanceTier computes it (see search-text).
  const tierSql = (): string => {
    if (!rankByRelevance(search) || text === null) return '0'
    const cases: string[] = []
    if (text.key !== '' && text.key.length <= MAX_KEY) {
      cases.push(`WHEN ${d.contains('c.search_keys', p(` ${text.key} `))} THEN 2`)
    }
    if (text.namePrefix !== '') {
      const length = [...text.namePrefix].length
      cases.push(`WHEN substr(c.sort_name, 1, ${p(length)}) = ${p(text.namePrefix)} THEN 1`)
    }
    return cases.length === 0 ? '0' : `(CASE ${cases.join(' ')} ELSE 0 END)`
  }

  let order: string
  const after = search.after
  switch (search.sort) {
    case 'updated':
      order = 'c.updated_at DESC, c.id DESC'
      if (after !== null) {
        const k = after.k as number
        where.push(`(c.updated_at < ${p(k)} OR (c.updated_at = ${p(k)} AND c.id < ${p(after.i)}))`)
      }
      break
    case 'name':
      order = d.nameOrder
      if (after !== null) {
        where.push(
          after.k === null
            ? `(c.sort_name IS NULL AND c.id > ${p(after.i)})`
            : `(c.sort_name > ${p(after.k)} OR (c.sort_name = ${p(after.k)} AND c.id > ${p(after.i)}) OR c.sort_name IS NULL)`,
        )
      }
      break
    default: {
      const ranked = rankByRelevance(search)
      order = `${ranked ? 'tier DESC, ' : ''}c.created_at DESC, c.id DESC`
      if (after !== null) {
        const k = after.k as number
        const newer = `(c.created_at < ${p(k)} OR (c.created_at = ${p(k)} AND c.id < ${p(after.i)}))`
        if (ranked) {
          where.push(
            `(${tierSql()} < ${p(after.r)} OR (${tierSql()} = ${p(after.r)} AND ${newer}))`,
          )
        } else {
          where.push(newer)
        }
      }
    }
  }
  const sql = `SELECT c.workspace, c.id, c.channel, c.platform_user_id, c.hint, c.vip,
      c.match_value, c.values_json, c.created_at, c.updated_at, c.sort_name, ${tierSql()} AS tier
    FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${p(search.limit + 1)}`
  return { sql, params }
}

/** The condition of one attribute filter, its values bound through `p`. */
export function filterSql(
  f: CheckedFilter,
  d: SearchDialect,
  p: (value: unknown) => string,
): string {
  const value = d.attribute(p(d.attributeParam(f.attributeId)))
  switch (f.op) {
    case 'eq':
      return `${value} = ${p(f.value)}`
    case 'contains':
      return d.contains(d.lower(value), d.lower(p(f.value)))
    case 'range': {
      const parts: string[] = []
      // A value that is not there (or not a number) fails a bound as it is NULL: it needs a
      // condition of its own only without bounds. Each condition reads the value again (on
      // SQLite, a JSON lookup and a call into JavaScript per contact checked).
      if (f.numeric) {
        const n = d.number(value)
        if (f.min !== undefined) parts.push(`${n} >= ${d.number(p(f.min))}`)
        if (f.max !== undefined) parts.push(`${n} <= ${d.number(p(f.max))}`)
        if (parts.length === 0) parts.push(`${n} IS NOT NULL`)
      } else {
        if (f.min !== undefined) parts.push(`${d.binary(value)} >= ${d.binary(p(f.min))}`)
        if (f.max !== undefined) parts.push(`${d.binary(value)} <= ${d.binary(p(f.max))}`)
        if (parts.length === 0) parts.push(`${value} IS NOT NULL`)
      }
      return `(${parts.join(' AND ')})`
    }
  }
}

/**
 * A page of search results from the rows the query returned (`limit + 1` at most).
 *
 * @example
 * return searchPage(search, rows)
 */
export function searchPage(
  search: CheckedSearch,
  rows: readonly SearchSqlRow[],
): Page<ContactIndexRow> {
  const items = rows.slice(0, search.limit)
  const last = items.at(-1)
  return {
    items: items.map(toContactIndexRow),
    next:
      rows.length > search.limit && last !== undefined
        ? encodeSearchCursor(
            cursorAfter(search, {
              row: toContactIndexRow(last),
              tier: Number(last.tier),
              sortName: last.sort_name,
            }),
          )
        : null,
  }
}
