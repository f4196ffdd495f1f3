import type * as Y from 'yjs'
import { isChannelId } from './channels'
import { PROFILE_KEYS, isValidId } from './document-layout'
import { CardfileError, ErrorCodes } from './errors'
import type { CheckResult } from './errors'
import { checkWrite } from './permissions'
import type { FieldRef } from './permissions'
import type { SchemaView } from './schema-doc'
import { TrackedMaps } from './tracked-maps'
import type {
  Actor,
  AttributeDefinition,
  ContactData,
  ContactProfile,
  FieldValue,
  Provenance,
} from './types'
import { validateValue } from './validation'
import { formatValue, selectedIds } from './value-types'
import { isBoolean, isFieldValueOf, isProfileValue, isString } from './value-shapes'

/** Options of {@link ContactDoc}. */
export interface ContactDocOptions {
  /** Transaction origin of every mutation (for example to scope a Y.UndoManager). */
  readonly origin?: unknown
}

/** How a value reads in a panel. */
export interface ValueLabel {
  /** The display form (`formatValue`): the text, option labels, Yes/No ... */
  readonly label: string
  /** The value is (or, for a multi-select, includes) a retired option (shown, marked). */
  readonly retired: boolean
}

/**
 * How a stored value reads: the text itself, or the label of the dropdown option it names
 * (with its retired flag). Null for no value, and for an option id the dropdown does not know.
 *
 * @example
 * valueLabel(schema.definition('plan'), contact.read().custom.plan?.value)
 * // { label: 'Gold', retired: true }
 */
export function valueLabel(
  def: AttributeDefinition | undefined,
  value: string | null | undefined,
): ValueLabel | null {
  if (value === null || value === undefined) return null
  if (!def) return { label: value, retired: false }
  if (def.type === 'dropdown') {
    const option = def.options.find((o) => o.id === value)
    return option ? { label: option.label, retired: option.retired } : null
  }
  if (def.type === 'multiselect') {
    const ids = selectedIds(value)
    const options = def.options.filter((o) => ids.includes(o.id))
    return {
      label: formatValue(def, value),
      retired: options.some((o) => o.retired),
    }
  }
  return { label: formatValue(def, value), retired: false }
}

const throwIfRefused = (result: CheckResult, field: string): void => {
  if (!result.ok) throw new CardfileError(result.code, result.message, field)
}

const provenance = (actor: Actor, now: number): Provenance => ({
  role: actor.role,
  userId: actor.userId,
  at: now,
})

/**
 * The typed API over one contact document: profile, platform values, custom values and the
 * VIP flag, each value stored with its provenance. Wraps a Y.Doc it does not own.
 *
 * Writes check permission (`checkWrite`) and the value (`validateValue`) first and throw a
 * {@link CardfileError} when refused, so a UI learns at once what the server would refuse.
 *
 * @example
 * const contact = new ContactDoc(doc, 'c1')
 * contact.setValue('plan', 'gold', { userId: 'u1', role: 'agent' }, schema.view())
 * contact.read().custom.plan // { value: 'gold', by: { role: 'agent', userId: 'u1', at: ... } }
 */
export class ContactDoc {
  readonly doc: Y.Doc
  readonly id: string
  private readonly profile: Y.Map<unknown>
  private readonly platform: Y.Map<unknown>
  private readonly custom: Y.Map<unknown>
  private readonly flags: Y.Map<unknown>
  private readonly origin: unknown
  private readonly tracked: TrackedMaps<ContactData>

  constructor(doc: Y.Doc, contactId: string, options: ContactDocOptions = {}) {
    this.doc = doc
    this.id = contactId
    this.profile = doc.getMap('profile')
    this.platform = doc.getMap('platform')
    this.custom = doc.getMap('custom')
    this.flags = doc.getMap('flags')
    this.origin = options.origin ?? null
    this.tracked = new TrackedMaps(
      doc,
      [this.profile, this.platform, this.custom, this.flags],
      () => this.compute(),
    )
  }

  private compute(): ContactData {
    const values = (map: Y.Map<unknown>): Record<string, FieldValue> => {
      const out: Record<string, FieldValue> = {}
      map.forEach((value, key) => {
        // Cleared values (`{ value: null }`) and malformed entries read as absent.
        if (isFieldValueOf(value, isString)) out[key] = Object.freeze({ ...value })
      })
      return Object.freeze(out)
    }
    const vip = this.flags.get('vip')
    return Object.freeze({
      id: this.id,
      profile: this.readProfile(),
      platform: values(this.platform),
      custom: values(this.custom),
      vip: isFieldValueOf(vip, isBoolean) ? Object.freeze({ ...vip }) : null,
    })
  }

  private readProfile(): ContactProfile | null {
    for (const key of PROFILE_KEYS) {
      if (!isProfileValue(key, this.profile.get(key))) return null
    }
    return Object.freeze({
      channel: this.profile.get('channel') as ContactProfile['channel'],
      platformUserId: this.profile.get('platformUserId') as string,
      hint: this.profile.get('hint') as string,
      createdAt: this.profile.get('createdAt') as number,
    })
  }

  /**
   * The contact as it stands (cached until the next change).
   *
   * @example
   * const { profile, custom, vip } = contact.read()
   */
  read(): ContactData {
    return this.tracked.get()
  }

  /**
   * Calls `listener` once after every transaction that touched the contact.
   *
   * @example
   * const stop = contact.observe(() => render(contact.read()))
   */
  observe(listener: () => void): () => void {
    return this.tracked.observe(listener)
  }

  /** Stops tracking the document (the document is untouched). */
  destroy(): void {
    this.tracked.destroy()
  }

  private check(actor: Actor, field: FieldRef, schema: SchemaView, name: string): void {
    throwIfRefused(checkWrite(actor, field, schema), name)
  }

  /**
   * Refuses a custom or platform value the actor may not write, or that the attribute does not
   * take; the error names the field as `<kind>:<attributeId>`.
   */
  private checkValue(
    kind: 'custom' | 'platform',
    attributeId: string,
    value: string | null,
    actor: Actor,
    schema: SchemaView,
  ): void {
    const name = `${kind}:${attributeId}`
    const field: FieldRef =
      kind === 'custom'
        ? { kind: 'custom-value', attributeId }
        : { kind: 'platform-value', attributeId }
    this.check(actor, field, schema, name)
    throwIfRefused(validateValue(schema.definitions.get(attributeId), value, kind), name)
  }

  /**
   * Sets (or with null clears) a custom attribute value; for a dropdown, `value` is the option
   * id. Throws `forbidden`, `plan-lacks-feature`, `crm-managed-locked`, `unknown-attribute`,
   * `wrong-kind`, `retired-attribute`, `too-long`, `not-an-option` or `retired-option`.
   * A cleared value is stored as `{ value: null, by }` so the clearing keeps its provenance.
   *
   * @example
   * contact.setValue('account_id', 'AC-1234', actor, schema.view())
   * contact.setValue('account_id', null, actor, schema.view()) // clear
   */
  setValue(
    attributeId: string,
    value: string | null,
    actor: Actor,
    schema: SchemaView,
    now: number = Date.now(),
  ): void {
    this.checkValue('custom', attributeId, value, actor, schema)
    this.doc.transact(() => {
      this.custom.set(attributeId, { value, by: provenance(actor, now) })
    }, this.origin)
  }

  /**
   * Marks or unmarks the contact as VIP. Throws `forbidden`, `plan-lacks-feature` or
   * `vip-disabled`.
   *
   * @example
   * contact.setVip(true, actor, schema.view())
   */
  setVip(vip: boolean, actor: Actor, schema: SchemaView, now: number = Date.now()): void {
    this.check(actor, { kind: 'vip' }, schema, 'flags:vip')
    this.doc.transact(() => {
      this.flags.set('vip', { value: vip, by: provenance(actor, now) })
    }, this.origin)
  }

  /**
   * Sets (or with null removes) a platform attribute value from channel metadata. System only.
   *
   * @example
   * contact.setPlatformValue('x_handle', '@ana', { userId: 'ingest', role: 'system' }, view)
   */
  setPlatformValue(
    attributeId: string,
    value: string | null,
    actor: Actor,
    schema: SchemaView,
    now: number = Date.now(),
  ): void {
    this.checkValue('platform', attributeId, value, actor, schema)
    this.doc.transact(() => {
      if (value === null) this.platform.delete(attributeId)
      else this.platform.set(attributeId, { value, by: provenance(actor, now) })
    }, this.origin)
  }

  /**
   * Writes the contact's profile (channel identity). The system does this when it creates the
   * contact; throws `invalid-value` for a malformed profile.
   *
   * @example
   * contact.setProfile({ channel: 'x', platformUserId: '42', hint: '@an***a', createdAt: now })
   */
  setProfile(profile: ContactProfile): void {
    if (!isChannelId(profile.channel) || !isValidId(this.id)) {
      throw new CardfileError(ErrorCodes.InvalidValue, 'malformed profile', 'profile')
    }
    for (const key of PROFILE_KEYS) {
      if (!isProfileValue(key, profile[key])) {
        throw new CardfileError(ErrorCodes.InvalidValue, `malformed profile ${key}`, 'profile')
      }
    }
    this.doc.transact(() => {
      for (const key of PROFILE_KEYS) {
        if (this.profile.get(key) !== profile[key]) this.profile.set(key, profile[key])
      }
    }, this.origin)
  }
}
