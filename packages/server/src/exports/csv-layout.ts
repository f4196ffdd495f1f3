import type { AttributeDefinition } from '@cardfile/core'
import type { ContactIndexRow } from '../storage/index-store'

/** The fixed columns every contact-attributes export starts with. */
export const FIXED_COLUMNS = ['id', 'channel', 'hint', 'VIP', 'created', 'updated'] as const

/** How one export turns index rows into CSV cells: the header and a row mapper. */
export interface CsvLayout {
  readonly header: readonly string[]
  row(contact: ContactIndexRow): string[]
}

const iso = (ms: number): string => new Date(ms).toISOString()

/**
 * The columns of a contact-attributes export: the fixed ones, then every attribute that is not
 * retired, by label, in the admin's order (`definitions` arrive sorted by order key). Dropdown
 * values print as their option's label (a retired option keeps its label: the value is still
 * the contact's); a value that is no option of the dropdown prints as stored. While VIP is off
 * for the workspace (or its plan), every contact's VIP cell is `no`, as every list shows it.
 *
 * @example
 * const layout = csvLayout(schema.definitions())
 * layout.header // ['id', 'channel', 'hint', 'VIP', 'created', 'updated', 'Email', 'Plan']
 */
export function csvLayout(
  definitions: readonly AttributeDefinition[],
  /** VIP has effect in the workspace; when not, no contact is exported as VIP. */
  vipActive = true,
): CsvLayout {
  const columns = definitions
    // VIP, the standard attribute, has its own fixed column.
    .filter((d) => !d.retired && d.kind !== 'standard')
    .map((d) => ({
      id: d.id,
      label: d.label,
      options:
        d.type === 'dropdown' ? new Map(d.options.map((o) => [o.id, o.label] as const)) : null,
    }))
  return {
    header: [...FIXED_COLUMNS, ...columns.map((c) => c.label)],
    row(contact) {
      const cells = [
        contact.id,
        contact.channel,
        contact.hint,
        vipActive && contact.vip ? 'yes' : 'no',
        iso(contact.createdAt),
        iso(contact.updatedAt),
      ]
      const values = contact.values
      for (const c of columns) {
        const value = values[c.id]
        if (value === undefined) cells.push('')
        else cells.push(c.options?.get(value) ?? value)
      }
      return cells
    },
  }
}
