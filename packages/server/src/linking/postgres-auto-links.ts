import type { PgSession } from '../storage/postgres-database'
import { autoLinkEvents, matchValuesOf } from './auto-links'
import type { ManualRecord, MatchChange, ValueClasses } from './auto-links'
import type { EventActor, NewDomainEvent } from '../events/domain-event'
import { MAX_GROUP_SIZE } from './link-groups'

// Transactions that change contacts into or out of one matching value take that value's lock,
// so the second reads the first's rows once it committed (read committed): two contacts given
// one email at once on two instances still make one link, announced by the later commit. The
// key carries the schema, since advisory locks are per database; a hash collision only makes
// two commits wait for each other.
const VALUE_LOCKS = `SELECT pg_advisory_xact_lock(
  (hashtext('cardfile.links.value:' || current_schema())::bigint << 32)
    | (hashtext($1 || chr(31) || v)::bigint & 4294967295)
) FROM unnest($2::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n`

const CLASSES = `
  SELECT id, match_value FROM (
    SELECT id, match_value,
      row_number() OVER (PARTITION BY match_value ORDER BY id) AS n
    FROM contacts WHERE workspace = $1 AND match_value = ANY($2::text[])
  ) AS ranked WHERE n <= $3`

const RECORDS = `
  SELECT a, b, kind, subject FROM contact_links WHERE workspace = $1 AND a = ANY($2::text[])
  UNION
  SELECT a, b, kind, subject FROM contact_links WHERE workspace = $1 AND b = ANY($2::text[])`

async function classesOf(
  tx: PgSession,
  workspace: string,
  values: readonly string[],
): Promise<ValueClasses> {
  const classes = new Map<string, string[]>(values.map((v) => [v, []]))
  const rows = await tx.rows<{ id: string; match_value: string }>(CLASSES, [
    workspace,
    values,
    MAX_GROUP_SIZE + 1,
  ])
  for (const r of rows) classes.get(r.match_value)?.push(r.id)
  return classes
}

/** `AutoLinkTracker`, whose second read is a query. */
export interface PostgresAutoLinkTracker {
  finish(actor: EventActor | null, at: number): Promise<NewDomainEvent[]>
}

const NONE: PostgresAutoLinkTracker = { finish: async () => [] }

/**
 * Automatic links in a PostgreSQL transaction that changes matching values (a re-link chunk),
 * called once the contacts' rows are locked: locks the values the changes touch (in sorted order, so two transactions
 * never wait on each other in a circle), reads their classes before the writes, and hands back
 * a tracker whose `finish` reads them again after and derives the `contact.linked` events.
 *
 * @example
 * const tracker = await trackPostgresMatchChanges(tx, 'demo', changes)
 * // ...write the rows...
 * await events.insertIn(tx, await tracker.finish(actor, Date.now()))
 */
export async function trackPostgresMatchChanges(
  tx: PgSession,
  workspace: string,
  changes: readonly MatchChange[],
): Promise<PostgresAutoLinkTracker> {
  const real = changes.filter((c) => c.before !== c.after)
  if (real.length === 0) return NONE
  const values = matchValuesOf(real)
  await tx.run(VALUE_LOCKS, [workspace, values])
  const before = await classesOf(tx, workspace, values)
  return {
    async finish(actor, at) {
      const after = await classesOf(tx, workspace, values)
      const ids = new Set([...before.values(), ...after.values()].flat())
      const records = await tx.rows<ManualRecord>(RECORDS, [workspace, [...ids]])
      return autoLinkEvents({ workspace, changes: real, before, after, records, actor, at })
    },
  }
}

/**
 * The automatic link events of contact rows a transaction has just written (`changes`, with
 * their matching values before and after): locks the values they touch, then reads their
 * classes once; the classes before are those less the contacts that came in and plus those
 * that left, since the locks keep every other change of them out until this transaction ends.
 * Commits pay nothing for it unless a matching value changed.
 *
 * @example
 * const linked = await postgresLinksAfterWrite(tx, 'demo', [{ id: 'c2', before: null, after: 'ana@x.org' }], Date.now())
 */
export async function postgresLinksAfterWrite(
  tx: PgSession,
  workspace: string,
  changes: readonly MatchChange[],
  at: number,
): Promise<NewDomainEvent[]> {
  const real = changes.filter((c) => c.before !== c.after)
  if (real.length === 0) return []
  const values = matchValuesOf(real)
  await tx.run(VALUE_LOCKS, [workspace, values])
  const after = await classesOf(tx, workspace, values)
  const before = new Map<string, string[]>()
  for (const [value, members] of after) {
    const cameIn = new Set(real.filter((c) => c.after === value).map((c) => c.id))
    const left = real.filter((c) => c.before === value).map((c) => c.id)
    before.set(value, [...members.filter((m) => !cameIn.has(m)), ...left])
  }
  const ids = new Set([...before.values(), ...after.values()].flat())
  const records = await tx.rows<ManualRecord>(RECORDS, [workspace, [...ids]])
  return autoLinkEvents({ workspace, changes: real, before, after, records, actor: null, at })
}
