import { createHash } from 'node:crypto'
import type Database from 'better-sqlite3'
import type { ContactIndexRow } from '../storage/index-store'
import { toContactIndexRow } from '../storage/contact-sql-row'
import type { ContactSqlRow } from '../storage/contact-sql-row'
import { MAX_FILTER_VALUE, numberOf } from './contact-search-query'
import { contactSearchFields } from './search-text'
import type { SearchDialect } from './sql-search'

/**
 * The SQL of contact search on SQLite: an FTS5 table of each contact's words, keyed by the
 * rowid of its search row (sqlite-search-plan runs the searches).
 */
export const sqliteSearchDialect: SearchDialect = {
  // Named: the tier's parameters are bound after the WHERE clause's but read before it.
  mark: (n) => `@p${n}`,
  textMatch: (match) => ({
    from: `contact_search f JOIN contact_search_rows s ON s.rowid = f.rowid
      JOIN contacts c ON c.workspace = s.workspace AND c.id = s.id`,
    where: `f.contact_search MATCH ${match}`,
  }),
  // Tokens are letters and digits only; quoted anyway, so none can read as an FTS5 operator.
  matchQuery: (tokens) =>
    tokens
      .map((t, i) => `"${t.replaceAll('"', '""')}"${i === tokens.length - 1 ? '*' : ''}`)
      .join(' '),
  attribute: (mark) => `json_extract(c.values_json, ${mark})`,
  attributeParam: (id) => `$."${id}"`,
  lower: (expr) => `cardfile_lower(${expr})`,
  number: (expr) => `cardfile_number(${expr})`,
  binary: (expr) => expr,
  contains: (haystack, needle) => `instr(${haystack}, ${needle}) > 0`,
  // NULLS LAST, which the contacts_name index serves (an IS NULL term would need a sort).
  nameOrder: 'c.sort_name ASC NULLS LAST, c.id ASC',
}

/**
 * The SQL functions the search uses, from JavaScript so that every engine folds case and reads
 * numbers alike (SQLite's own lower() knows ASCII only).
 */
export function registerSearchFunctions(db: Database.Database): void {
  const opts = { deterministic: true }
  db.function('cardfile_lower', opts, (v: unknown) =>
    typeof v === 'string' ? v.toLowerCase() : null,
  )
  db.function('cardfile_number', opts, (v: unknown) =>
    typeof v === 'string' ? numberOf(v) : typeof v === 'number' ? v : null,
  )
}

/**
 * Marker words: SQLite's full-text index holds, beside a contact's words, a word per filter
 * value (its channel, its VIP flag, each attribute value) and per word of its display name
 * with its position, so a search intersects filters and texts in the index, and can leave out
 * the names starting with a text, without reading rows. Each starts with a middle dot, which
 * no search word holds (words are letters and digits), so no text finds a marker, in the index
 * or in the check of a row's words that a walk of an order's index makes. The markers are part
 * of the file's format: deriving them differently needs a migration that clears `search_keys`,
 * so the backfill at open derives every contact's again.
 */
const MARK = '\u00b7'

/** The marker of a channel. */
export const channelMarker = (channel: string): string =>
  `${MARK}c${Buffer.from(channel, 'utf8').toString('hex')}`

/** The marker of a VIP flag. */
export const vipMarker = (vip: boolean): string => `${MARK}v${vip ? 1 : 0}`

/**
 * The marker of an attribute value (a digest: any text, one word). A digest may collide, so a
 * search still checks the value itself; it never misses one.
 */
export const valueMarker = (attributeId: string, value: string): string =>
  `${MARK}a${createHash('sha256').update(`${attributeId}\u0000${value}`).digest('hex').slice(0, 20)}`

/**
 * The marker of the display name's word at a position (names sort as their words joined by
 * spaces, so "the name starts with `anna kar`" is "word 0 is anna and word 1 begins with kar").
 */
export const nameMarker = (position: number, word: string): string =>
  `${MARK}n${position}${MARK}${word}`

/** Most digits of a number's integer part a range marker spells out (exact as a double). */
const MAX_RANGE_DIGITS = 15

const attributeDigest = (attributeId: string): string =>
  createHash('sha256').update(attributeId).digest('hex').slice(0, 12)

/**
 * The markers of a number's integer part (a value of at least 0): its digit count and each
 * prefix of its digits, so a numeric range is a few of them (see `rangeMarkerQuery`), each
 * one word of the index. Longer numbers share one marker.
 */
export function rangeMarkers(attributeId: string, value: string): string[] {
  const n = numberOf(value)
  if (n === null || n < 0) return []
  const digits = value
    .replace(/^-/, '')
    .split('.')[0]!
    .replace(/^0+(?=\d)/, '')
  const head = `${MARK}r${attributeDigest(attributeId)}${MARK}`
  if (digits.length > MAX_RANGE_DIGITS) return [`${head}big`]
  const size = `${head}${String(digits.length).padStart(2, '0')}${MARK}`
  return Array.from({ length: digits.length + 1 }, (_, k) => size + digits.slice(0, k))
}

/** Prefixes of `lo`..`hi` (decimal strings of one length) that cover exactly that range. */
function coverDigits(lo: string, hi: string): string[] {
  if (lo === hi) return [lo]
  let i = 0
  while (lo[i] === hi[i]) i += 1
  const common = lo.slice(0, i)
  const tail = lo.length - i - 1
  const lowRest = lo.slice(i + 1)
  const highRest = hi.slice(i + 1)
  if (/^0*$/.test(lowRest) && /^9*$/.test(highRest) && lo[i] === '0' && hi[i] === '9') {
    return [common]
  }
  const out: string[] = []
  const low = Number(lo[i])
  const high = Number(hi[i])
  if (/^0*$/.test(lowRest)) out.push(common + lo[i]!)
  else out.push(...coverDigits(lo, common + lo[i]! + '9'.repeat(tail)))
  for (let d = low + 1; d < high; d += 1) out.push(common + String(d))
  if (/^9*$/.test(highRest)) out.push(common + hi[i]!)
  else out.push(...coverDigits(common + hi[i]! + '0'.repeat(tail), hi))
  return out
}

/**
 * The full-text query (OR of markers) of the contacts whose value of an attribute may
 * lie in a numeric range: those whose integer part does, a superset the range itself then
 * narrows. Null when the markers cannot tell (a bound below 0: negative values have none).
 */
export function rangeMarkerQuery(attributeId: string, min: string, max?: string): string | null {
  const low = numberOf(min)
  if (low === null || low < 0) return null
  const high = max === undefined ? Infinity : numberOf(max)
  if (high === null) return null
  const lo = Math.floor(low)
  const head = `${MARK}r${attributeDigest(attributeId)}${MARK}`
  const parts: string[] = []
  const limit = 10 ** MAX_RANGE_DIGITS - 1
  if (high > limit) parts.push(`"${head}big"`)
  const hi = Math.min(Math.floor(high), limit)
  for (let d = String(lo).length; d <= String(hi).length && lo <= hi; d += 1) {
    const from = Math.max(lo, d === 1 ? 0 : 10 ** (d - 1))
    const to = Math.min(hi, 10 ** d - 1)
    if (from > to) continue
    const size = `${String(d).padStart(2, '0')}${MARK}`
    if (from === (d === 1 ? 0 : 10 ** (d - 1)) && to === 10 ** d - 1) {
      parts.push(`"${head}${size}"`)
      continue
    }
    for (const p of coverDigits(String(from), String(to))) parts.push(`"${head}${size}${p}"`)
  }
  return parts.length === 0 ? `"${head}none"` : `(${parts.join(' OR ')})`
}

/** The marker of a contact without a display name (so a search by name leaves them out). */
export const NO_NAME_MARKER = `${MARK}nx`

/** The marker words of a contact. */
function markersOf(row: ContactIndexRow, sortName: string | null): string[] {
  const marks = [channelMarker(row.channel), vipMarker(row.vip)]
  for (const [id, value] of Object.entries(row.values ?? {})) {
    if (typeof value !== 'string') continue
    if (value.length <= MAX_FILTER_VALUE) marks.push(valueMarker(id, value))
    marks.push(...rangeMarkers(id, value))
  }
  if (sortName === null) marks.push(NO_NAME_MARKER)
  else sortName.split(' ').forEach((w, i) => marks.push(nameMarker(i, w)))
  return marks
}

/** Writes a contact's search data with its index row (inside the append's transaction). */
export interface SqliteSearchWriter {
  /**
   * Stores the contact's words, keys, filter columns and sort keys (the full-text indexes
   * follow by trigger when the words or keys change) and returns the columns of its contacts
   * row.
   */
  columns(row: ContactIndexRow): { search_keys: string; sort_name: string | null }
  /**
   * Brings the full-text indexes up to the words of every row changed since they were last
   * brought up to date (rows listed in `contact_search_stale`), in one transaction; returns how
   * many rows it re-indexed.
   */
  reindexStale(): number
  /** True when some row's words are ahead of the full-text indexes. */
  hasStale(): boolean
}

/**
 * The search writer of a SQLite store.
 *
 * @example
 * const search = createSqliteSearchWriter(db)
 * upsertContact.run({ ...contactColumns, ...search.columns(row) })
 */
export function createSqliteSearchWriter(db: Database.Database): SqliteSearchWriter {
  const upsert = db.prepare<[Record<string, unknown>]>(
    `INSERT INTO contact_search_rows (workspace, id, words, search_keys, sort_name, channel, vip,
       created_at, updated_at)
     VALUES (@workspace, @id, @words, @search_keys, @sort_name, @channel, @vip, @created_at,
       @updated_at)
     ON CONFLICT (workspace, id) DO UPDATE SET words = excluded.words,
       search_keys = excluded.search_keys, sort_name = excluded.sort_name,
       channel = excluded.channel, vip = excluded.vip, created_at = excluded.created_at,
       updated_at = excluded.updated_at`,
  )
  const stale = db.prepare<[], { one: number }>('SELECT 1 AS one FROM contact_search_stale LIMIT 1')
  // A row whose words went back to what the index holds needs nothing; the 'delete' takes the
  // words as they were indexed (what the index needs to find the entries it removes).
  const reindexSql = (
    [
      ['contact_search', 'words', 'indexed_words'],
      ['contact_search_keys', 'search_keys', 'indexed_keys'],
    ] as const
  ).flatMap(([index, column, indexed]) => {
    const changed = `FROM contact_search_stale t JOIN contact_search_rows r ON r.rowid = t.rowid
      WHERE t.${indexed} IS NOT r.${column}`
    return [
      `INSERT INTO ${index} (${index}, rowid, ${column}) SELECT 'delete', t.rowid, t.${indexed} ${changed}`,
      `INSERT INTO ${index} (rowid, ${column}) SELECT r.rowid, r.${column} ${changed}`,
    ].map((text) => db.prepare(text))
  })
  const clearStale = db.prepare('DELETE FROM contact_search_stale')
  const reindex = db.transaction((): number => {
    if (stale.get() === undefined) return 0
    for (const statement of reindexSql) statement.run()
    return clearStale.run().changes
  })
  return {
    columns(row) {
      const f = contactSearchFields(row)
      upsert.run({
        workspace: row.workspace,
        id: row.id,
        words: [f.words, ...markersOf(row, f.sortName)].join(' ').trim(),
        search_keys: f.keys,
        sort_name: f.sortName,
        channel: row.channel,
        vip: row.vip ? 1 : 0,
        created_at: row.createdAt,
        updated_at: row.updatedAt,
      })
      return { search_keys: f.keys, sort_name: f.sortName }
    },
    reindexStale: () => reindex.immediate(),
    hasStale: () => stale.get() !== undefined,
  }
}

/**
 * Fills the search data of contacts indexed before search existed, a batch per transaction.
 * Runs at open; a no-op once done.
 */
export function backfillSqliteSearch(db: Database.Database, batch = 2_000): number {
  const writer = createSqliteSearchWriter(db)
  // In rowid order from where the last batch stopped: rows already filled are not read again.
  const pending = db.prepare<[number, number], ContactSqlRow & { rowid: number }>(
    'SELECT rowid, * FROM contacts WHERE rowid > ? AND search_keys IS NULL ORDER BY rowid LIMIT ?',
  )
  const update = db.prepare<[string, string | null, string, string]>(
    'UPDATE contacts SET search_keys = ?, sort_name = ? WHERE workspace = ? AND id = ?',
  )
  let done = 0
  let from = 0
  const step = db.transaction(() => {
    const rows = pending.all(from, batch)
    for (const r of rows) {
      const c = writer.columns(toContactIndexRow(r))
      update.run(c.search_keys, c.sort_name, r.workspace, r.id)
    }
    from = rows.at(-1)?.rowid ?? from
    // Rows that had words already (an interrupted backfill) are re-indexed with their batch,
    // and so is whatever a previous process left stale.
    writer.reindexStale()
    return rows.length
  })
  for (;;) {
    const n = step.immediate()
    done += n
    if (n < batch) return done
  }
}
