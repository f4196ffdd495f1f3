import { ErrorCodes, checkWrite, validateValue } from '@cardfile/core'
import type { Actor, ContactData, ContactDoc, SchemaView } from '@cardfile/core'
import { refusalsOf } from '../contacts/contact-values'
import type { ValueRefusal } from '../contacts/contact-values'

/** What one import row writes to its contact, by kind of attribute. */
export interface RowWrites {
  /** Custom attribute id to its stored value. */
  readonly custom: Readonly<Record<string, string>>
  /** Platform attribute id to its value (the system's to write, as on the websocket). */
  readonly platform: Readonly<Record<string, string>>
  /** The VIP flag, from the standard attribute's column; undefined leaves it. */
  readonly vip?: boolean
}

const VIP_CELLS: Readonly<Record<string, boolean>> = {
  yes: true,
  no: false,
  true: true,
  false: false,
}

/**
 * The VIP flag a cell names: `yes`/`no` (as exports write it) or `true`/`false`, any case;
 * null for anything else.
 *
 * @example
 * vipCell('Yes') // true
 */
export const vipCell = (cell: string): boolean | null =>
  VIP_CELLS[cell.trim().toLowerCase()] ?? null

/**
 * The refusals of writing `writes` as `actor`, by the rules the websocket's change gate
 * applies to the same fields: custom values as `PATCH .../values` checks them, platform values
 * only by the system (`forbidden` for anyone else) and valid for their definition, VIP by
 * admins, agents and the system when the plan has it and it is switched on.
 *
 * @example
 * rowRefusals({ custom: {}, platform: { email: 'a@b.c' } }, admin, schema) // [{ attributeId: 'email', code: 'forbidden', ... }]
 */
export function rowRefusals(writes: RowWrites, actor: Actor, schema: SchemaView): ValueRefusal[] {
  const refusals = refusalsOf(writes.custom, actor, schema)
  for (const [attributeId, value] of Object.entries(writes.platform)) {
    const allowed = checkWrite(actor, { kind: 'platform-value', attributeId }, schema)
    const verdict = allowed.ok
      ? validateValue(schema.definitions.get(attributeId), value, 'platform')
      : allowed
    if (!verdict.ok) refusals.push({ attributeId, code: verdict.code, message: verdict.message })
  }
  if (writes.vip !== undefined) {
    const verdict = checkWrite(actor, { kind: 'vip' }, schema)
    if (!verdict.ok) {
      const id = [...schema.definitions.values()].find((d) => d.kind === 'standard')?.id ?? 'vip'
      refusals.push({ attributeId: id, code: verdict.code, message: verdict.message })
    }
  }
  return refusals
}

/** A row that writes nothing (every cell empty). */
export const writesNothing = (writes: RowWrites): boolean =>
  Object.keys(writes.custom).length === 0 &&
  Object.keys(writes.platform).length === 0 &&
  writes.vip === undefined

/**
 * Writes a row's values into the contact (inside the caller's transaction, after
 * `rowRefusals` found nothing to refuse); a value equal to the stored one is left with its
 * provenance. Returns how many values changed.
 */
export function applyRow(
  contact: ContactDoc,
  before: ContactData,
  writes: RowWrites,
  actor: Actor,
  schema: SchemaView,
  now: number,
): number {
  let changed = 0
  for (const [id, value] of Object.entries(writes.custom)) {
    if (before.custom[id]?.value === value) continue
    contact.setValue(id, value, actor, schema, now)
    changed += 1
  }
  for (const [id, value] of Object.entries(writes.platform)) {
    if (before.platform[id]?.value === value) continue
    contact.setPlatformValue(id, value, actor, schema, now)
    changed += 1
  }
  if (writes.vip !== undefined && (before.vip?.value ?? false) !== writes.vip) {
    contact.setVip(writes.vip, actor, schema, now)
    changed += 1
  }
  return changed
}

/** The refusal of a VIP cell that is not yes or no. */
export const badVipCell = (attributeId: string): ValueRefusal => ({
  attributeId,
  code: ErrorCodes.InvalidValue,
  message: 'VIP is yes or no (or true or false)',
})
