import { formatValue } from '@cardfile/core'
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

/** How a column prints a value; option labels are looked up in a map built once per export. */
function cellFormat(def: AttributeDefinition): (value: string) => string {
  if (def.type !== 'dropdown' && def.type !== 'multiselect') {
    return (value) => formatValue(def, value)
  }
  const labels = new Map(def.options.map((o) => [o.id, o.label] as const))
  if (def.type === 'dropdown') return (value) => labels.get(value) ?? value
  return (value) =>
    value
      .split(',')
      .map((id) => labels.get(id) ?? id)
      .join(', ')
}

/**
 * The columns of a contact-attributes export: the fixed ones, then every attribute that is not
 * retired, by label, in the admin's order (`definitions` arrive sorted by order key). Dropdown
 * values print as their option's label (a retired option keeps its label: the value is still
 * the contact's); a value that is no option of the dropdown prints as stored. Every type prints
 * its display form (`formatValue`): multi-selects as option labels joined by ", ", checkboxes as
 * Yes/No, numbers with a point and dates as `YYYY-MM-DD` whatever the locale, the rest as
 * stored. A contact without a value prints the attribute's default, if it has one (what the
 * panel shows it as). While VIP is off for the workspace (or its plan), every contact's VIP
 * cell is `no`, as every list shows it.
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
      format: cellFormat(d),
      fallback: d.rules.default === null ? '' : formatValue(d, d.rules.default),
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
        cells.push(value === undefined || value === '' ? c.fallback : c.format(value))
      }
      return cells
    },
  }
}
