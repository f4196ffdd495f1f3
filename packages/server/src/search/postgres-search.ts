import type { ChannelId } from '@cardfile/core'
import type { PgDatabase } from '../storage/postgres-database'
import { parseContactValues } from '../storage/contact-sql-row'
import type { ContactIndexRow, Page } from '../storage/index-store'
import { matchesNothing } from './contact-search-query'
import type { CheckedSearch } from './contact-search-query'
import { contactSearchFields } from './search-text'
import { searchPage, searchSql } from './sql-search'
import type { SearchDialect, SearchSqlRow } from './sql-search'

const NUMBER_SQL = `'^-?[0-9]{1,30}(\\.[0-9]{1,30})?$'`

/**
 * Contact search on PostgreSQL: a generated tsvector of each contact's words with a GIN index,
 * queried with whole words and the last one as a prefix (`'anna' & 'kar':*`), which also serves
 * handles, emails and phones (their tokens, and a phone's digits run together, are words), so
 * pg_trgm is not needed.
 */
export const postgresSearchDialect: SearchDialect = {
  mark: (n) => `$${n}`,
  textMatch: (match) => ({
    from: 'contacts c',
    where: `c.search_vector @@ to_tsquery('simple'::regconfig, ${match})`,
  }),
  // Tokens are letters and digits only; quoted anyway, so none can read as a tsquery operator.
  matchQuery: (tokens) =>
    tokens
      .map(
        (t, i) =>
          `'${t.replaceAll('\\', '').replaceAll("'", "''")}'${i === tokens.length - 1 ? ':*' : ''}`,
      )
      .join(' & '),
  attribute: (mark) => `(c.values_json::jsonb ->> ${mark}::text)`,
  attributeParam: (id) => id,
  lower: (expr) => `lower(${expr})`,
  number: (expr) => `(CASE WHEN ${expr} ~ ${NUMBER_SQL} THEN (${expr})::numeric END)`,
  binary: (expr) => `(${expr} COLLATE "C")`,
  contains: (haystack, needle) => `strpos(${haystack}, ${needle}) > 0`,
  nameOrder: 'c.sort_name ASC NULLS LAST, c.id ASC',
}

/** The search columns of contact rows, as arrays for the upsert's unnest. */
export function searchColumns(
  rows: readonly ContactIndexRow[],
): [string[], string[], (string | null)[]] {
  const fields = rows.map((r) => contactSearchFields(r))
  return [fields.map((f) => f.words), fields.map((f) => f.keys), fields.map((f) => f.sortName)]
}

/**
 * Fills the search columns of contacts indexed before search existed, a batch per statement.
 * Runs at open; a no-op once done.
 */
export async function backfillPostgresSearch(db: PgDatabase, batch = 2_000): Promise<number> {
  let done = 0
  for (;;) {
    const rows = await db.rows<{
      workspace: string
      id: string
      channel: string
      platform_user_id: string
      values_json: string
    }>(
      `SELECT workspace, id, channel, platform_user_id, values_json FROM contacts
       WHERE search_words IS NULL LIMIT $1`,
      [batch],
    )
    if (rows.length === 0) return done
    const fields = rows.map((r) =>
      contactSearchFields({
        channel: r.channel as ChannelId,
        platformUserId: r.platform_user_id,
        values: parseContactValues(r.values_json),
      }),
    )
    await db.run(
      `UPDATE contacts c SET search_words = d.w, search_keys = d.k, sort_name = d.n
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS d(ws, i, w, k, n)
       WHERE c.workspace = d.ws AND c.id = d.i`,
      [
        rows.map((r) => r.workspace),
        rows.map((r) => r.id),
        fields.map((f) => f.words),
        fields.map((f) => f.keys),
        fields.map((f) => f.sortName),
      ],
    )
    done += rows.length
    if (rows.length < batch) return done
  }
}

/**
 * Runs a checked search on PostgreSQL.
 *
 * @example
 * const page = await searchPostgres(db, 'demo', checkSearch({ text: 'ann', limit: 20 }))
 */
export async function searchPostgres(
  db: PgDatabase,
  workspace: string,
  search: CheckedSearch,
): Promise<Page<ContactIndexRow>> {
  if (matchesNothing(search)) return { items: [], next: null }
  const { sql, params } = searchSql(workspace, search, postgresSearchDialect)
  return searchPage(search, await db.rows<SearchSqlRow>(sql, params))
}
