import type { Database } from 'better-sqlite3'
import { autoLinkEvents, matchValuesOf } from './auto-links'
import type { AutoLinkTracker, ManualRecord, MatchChange, ValueClasses } from './auto-links'
import { MAX_GROUP_SIZE } from './link-groups'

const NONE: AutoLinkTracker = { finish: () => [] }

/**
 * Automatic links on a SQLite connection, for a transaction that changes matching values (a
 * commit of a contact, a re-link chunk): `track` reads the classes the changes touch before the
 * writes, `finish` reads them again after and derives the `contact.linked` events (see
 * `autoLinkEvents`). Synchronous, for better-sqlite3 transactions.
 *
 * @example
 * const tracker = autoLinks.track('demo', [{ id: 'c2', before: null, after: 'ana@x.org' }])
 * // ...write the contact row...
 * events.insertNow(tracker.finish(actor, Date.now()))
 */
export function createSqliteAutoLinks(db: Database) {
  const sql = {
    matchOf: db.prepare<[string, string], { match_value: string | null }>(
      'SELECT match_value FROM contacts WHERE workspace = ? AND id = ?',
    ),
    classes: db.prepare<[string, string, number], { id: string; match_value: string }>(
      `SELECT id, match_value FROM (
         SELECT id, match_value,
           row_number() OVER (PARTITION BY match_value ORDER BY id) AS n
         FROM contacts
         WHERE workspace = ? AND match_value IN (SELECT value FROM json_each(?))
       ) WHERE n <= ?`,
    ),
    records: db.prepare<[string, string, string, string], ManualRecord>(
      `SELECT a, b, kind, subject FROM contact_links
         WHERE workspace = ? AND a IN (SELECT value FROM json_each(?))
       UNION
       SELECT a, b, kind, subject FROM contact_links
         WHERE workspace = ? AND b IN (SELECT value FROM json_each(?))`,
    ),
  }
  const classesOf = (workspace: string, values: readonly string[]): ValueClasses => {
    const classes = new Map<string, string[]>()
    for (const v of values) classes.set(v, [])
    for (const r of sql.classes.all(workspace, JSON.stringify(values), MAX_GROUP_SIZE + 1)) {
      classes.get(r.match_value)?.push(r.id)
    }
    return classes
  }
  return {
    /** A contact's stored matching value (null: none, or no row yet). */
    matchOf(workspace: string, id: string): string | null {
      return sql.matchOf.get(workspace, id)?.match_value ?? null
    },
    track(workspace: string, changes: readonly MatchChange[]): AutoLinkTracker {
      const real = changes.filter((c) => c.before !== c.after)
      if (real.length === 0) return NONE
      const values = matchValuesOf(real)
      const before = classesOf(workspace, values)
      return {
        finish(actor, at) {
          const after = classesOf(workspace, values)
          const ids = new Set<string>()
          for (const classes of [before, after]) {
            for (const members of classes.values()) for (const id of members) ids.add(id)
          }
          const json = JSON.stringify([...ids])
          const records = sql.records.all(workspace, json, workspace, json)
          return autoLinkEvents({ workspace, changes: real, before, after, records, actor, at })
        },
      }
    },
  }
}
