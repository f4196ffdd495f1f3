import { VIP_ATTRIBUTE_ID, formatValue, normaliseInput, vipActive } from '@cardfile/core'
import type { AttributeDefinition, Role, SchemaView } from '@cardfile/core'
import type * as Y from 'yjs'

/** A stored attribute value with its provenance, as the CRM integration reads it. */
export interface FieldLike {
  readonly value: string | null
  readonly by: { readonly role: Role; readonly userId: string; readonly at: number }
}

/** The field stored under an attribute, or null when the entry is not one. */
export const fieldOf = (raw: unknown): FieldLike | null => {
  if (typeof raw !== 'object' || raw === null) return null
  const { value, by } = raw as { value?: unknown; by?: unknown }
  if (typeof by !== 'object' || by === null) return null
  if (typeof value !== 'string' && value !== null) return null
  return raw as FieldLike
}

/**
 * A stored value as the CRM reads it: a dropdown option's label, a multi-select's labels joined
 * by ", ", anything else in its stored form (numbers, dates and checkboxes stay `12.5`,
 * `2024-12-31`, `true`, which every CRM reads the same way).
 */
export const toCrmValue = (def: AttributeDefinition, value: string | null): string | null => {
  if (value === null) return value
  if (def.type === 'dropdown') return def.options.find((o) => o.id === value)?.label ?? value
  if (def.type === 'multiselect') return formatValue(def, value)
  return value
}

/** The id of the option a CRM names by id or label; the text itself when none matches. */
const optionIdOf = (def: AttributeDefinition, value: string): string => {
  const wanted = value.trim().toLowerCase()
  return (
    def.options.find((o) => o.id === value.trim())?.id ??
    def.options.find((o) => o.label.trim().toLowerCase() === wanted)?.id ??
    value
  )
}

/**
 * A CRM value as stored: the id of the dropdown option it names (by label or id), a
 * multi-select's ids from labels or ids separated by commas, a typed value read as its type
 * (`normaliseInput`: "12,50" is 12.5), text as it came. What cannot be read is passed on as it
 * came, for validation to refuse.
 */
export const fromCrmValue = (def: AttributeDefinition, value: string | null): string | null => {
  if (value === null || def.type === 'text' || def.type === 'longtext') return value
  if (def.type === 'dropdown') return optionIdOf(def, value)
  if (def.type === 'multiselect') {
    return value
      .split(',')
      .filter((piece) => piece.trim() !== '')
      .map((piece) => optionIdOf(def, piece))
      .join(',')
  }
  return normaliseInput(def.type, value) ?? value
}

/**
 * The lookup attributes of a contact that have a value, by alias.
 *
 * @example
 * lookupValues(doc, view) // { email: 'ana@example.com' }
 */
export function lookupValues(doc: Y.Doc, view: SchemaView): Record<string, string> {
  const out: Record<string, string> = {}
  for (const def of view.definitions.values()) {
    if (!def.lookup || def.retired) continue
    const map = doc.getMap(def.kind === 'platform' ? 'platform' : 'custom')
    const field = fieldOf(map.get(def.id))
    const value = field === null ? null : toCrmValue(def, field.value)
    if (value !== null && value !== '') out[def.alias] = value
  }
  return out
}

/**
 * The contact's standard attributes by alias, `'true'` or `'false'`: VIP under its alias while
 * VIP is on for the workspace and its plan; nothing while it is off (no contact is VIP then).
 *
 * @example
 * standardValues(doc, view) // { vip: 'true' }
 */
export function standardValues(doc: Y.Doc, view: SchemaView): Record<string, string> {
  const def = view.definitions.get(VIP_ATTRIBUTE_ID)
  if (def?.kind !== 'standard' || !vipActive(view.settings)) return {}
  const flag = doc.getMap('flags').get('vip') as { value?: unknown } | undefined
  return { [def.alias]: flag?.value === true ? 'true' : 'false' }
}
