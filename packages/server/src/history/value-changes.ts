import type { Actor } from '@cardfile/core'
import type * as Y from 'yjs'
import { VIP_HISTORY_ATTRIBUTE } from './value-history'
import type { HistoryValue, ValueAuthor, ValueChange } from './value-history'

/**
 * A contact's values as one commit leaves them, by field (`custom:<id>`, `platform:<id>`,
 * `vip`), with the author each value names. Kept by the live document from one commit to the
 * next, so a commit's changes are the difference between two committed states: complete for
 * every writer (clients, the HTTP API, the CRM, bots, the server) and never counting a refused
 * change, which the commit's compensation already undid.
 */
export type ContactValues = ReadonlyMap<string, ValueEntry>

interface ValueEntry {
  readonly value: HistoryValue
  readonly by: ValueAuthor | null
}

const NONE: ValueEntry = { value: null, by: null }

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x)

function entryOf(raw: unknown): ValueEntry {
  if (!isRecord(raw)) return NONE
  const value = raw.value
  const by = raw.by
  return {
    value: typeof value === 'string' || typeof value === 'boolean' ? value : null,
    by:
      isRecord(by) && typeof by.role === 'string' && typeof by.userId === 'string'
        ? ({ role: by.role, userId: by.userId } as ValueAuthor)
        : null,
  }
}

/**
 * The values of a contact document as it stands.
 *
 * @example
 * const before = contactValuesOf(doc) // Map { 'custom:plan' => { value: 'gold', by: {...} } }
 */
export function contactValuesOf(doc: Y.Doc): ContactValues {
  const values = new Map<string, ValueEntry>()
  for (const map of ['custom', 'platform'] as const) {
    doc.getMap(map).forEach((raw, key) => {
      const entry = entryOf(raw)
      if (entry.value !== null) values.set(`${map}:${key}`, entry)
    })
  }
  const vip = entryOf(doc.getMap('flags').get('vip'))
  if (vip.value !== null) values.set(VIP_HISTORY_ATTRIBUTE, vip)
  return values
}

const SERVER: ValueAuthor = { role: 'system', userId: 'cardfile-server' }

const attributeOf = (field: string): string =>
  field === VIP_HISTORY_ATTRIBUTE ? field : field.slice(field.indexOf(':') + 1)

/** What one commit changed, and the values after it. */
export interface CommitValueChanges {
  readonly values: ContactValues
  readonly changes: ValueChange[]
}

/**
 * The value changes of one commit of contact `contactId` (which `doc` already holds), from the
 * values of the commit before. A value set names its author (checked against the sender by
 * the change gate, or recorded by the system for the CRM); a value cleared is the committer's.
 *
 * @example
 * const { values, changes } = valueChangesOf('demo', 'c1', before, doc, actor, Date.now())
 */
export function valueChangesOf(
  workspace: string,
  contactId: string,
  before: ContactValues,
  doc: Y.Doc,
  actor: Actor | null,
  at: number,
): CommitValueChanges {
  const values = contactValuesOf(doc)
  const changes: ValueChange[] = []
  const committer: ValueAuthor =
    actor === null ? SERVER : { role: actor.role, userId: actor.userId }
  const record = (field: string, previous: ValueEntry, next: ValueEntry): void => {
    if (previous.value === next.value) return
    changes.push({
      workspace,
      contactId,
      attributeId: attributeOf(field),
      previous: previous.value,
      value: next.value,
      by: next.value !== null && next.by !== null ? next.by : committer,
      at,
    })
  }
  for (const [field, next] of values) record(field, before.get(field) ?? NONE, next)
  for (const [field, previous] of before) if (!values.has(field)) record(field, previous, NONE)
  return { values, changes }
}
