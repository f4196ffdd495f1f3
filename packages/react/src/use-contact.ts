import { useCallback, useMemo } from 'react'
import { canEdit, valueLabel, vipActive } from '@cardfile/core'
import type {
  Actor,
  AttributeDefinition,
  AttributeKind,
  AttributeType,
  ChannelId,
  ContactHandle,
  ContactProfile,
  DropdownOption,
  Provenance,
} from '@cardfile/core'
import { contactAccess } from './access'
import { useCardfileClient } from './context'
import { loadStateOf } from './load-state'
import type { LoadState } from './load-state'
import { useDocumentSelector } from './use-document-selector'
import { withContact } from './with-handle'

/**
 * One visible attribute of a contact, joined with its value. VIP (kind `standard`, type `flag`)
 * is one of them while it is switched on: value `'true'` for a VIP contact, null otherwise;
 * change it with `setVip`, not `setValue`.
 */
export interface ContactField {
  readonly id: string
  readonly label: string
  readonly kind: AttributeKind
  readonly type: AttributeType
  /** The stored value (a dropdown holds the option id), or null. */
  readonly value: string | null
  /** What to show: the text, or the dropdown option's label; null when empty. */
  readonly display: string | null
  /** The value is a retired dropdown option (still shown, marked). */
  readonly retiredOption: boolean
  /** Who or what set the value, and when. */
  readonly provenance: Provenance | null
  /** Whether the signed-in user may change it (plan, role, CRM settings). */
  readonly canEdit: boolean
  readonly crmManaged: boolean
  /** Dropdown options to offer: the non-retired ones, plus the current one if retired. */
  readonly options: readonly DropdownOption[]
  readonly maxLength: number
  readonly attribute: AttributeDefinition
}

/** A contact as a panel shows it. */
export interface ContactView {
  readonly id: string
  readonly profile: ContactProfile | null
  /** Visible attributes in the admin's order, for the contact's channel (or `channel`). */
  readonly fields: readonly ContactField[]
  readonly vip: boolean
  readonly vipBy: Provenance | null
}

/** Options of {@link useContact}. */
export interface UseContactOptions<T> {
  /** The channel whose platform attributes to show; defaults to the contact's own channel. */
  readonly channel?: ChannelId
  /** Picks what the component needs; it re-renders only when that changes. */
  readonly select?: (contact: ContactView) => T
}

/** What {@link useContact} returns. */
export interface ContactResult<T> extends LoadState {
  readonly data: T
  /**
   * Whether the contact exists: true/false once known, null while only an empty local copy has
   * been read (so a UI shows a placeholder, not a false "not found").
   */
  readonly found: boolean | null
  /**
   * Sets a custom attribute value (dropdowns take the option id). Checks the value and the
   * user's permission first and throws a CardfileError when refused (also shown in `error`).
   * Stable identity.
   */
  readonly setValue: (attributeId: string, value: string) => void
  /** Clears a custom attribute value; throws a CardfileError when refused. Stable identity. */
  readonly clearValue: (attributeId: string) => void
  /** Marks or unmarks the contact as VIP; throws a CardfileError when refused. Stable identity. */
  readonly setVip: (vip: boolean) => void
}

const field = (
  def: AttributeDefinition,
  stored: { readonly value: string; readonly by: Provenance } | undefined,
  editable: boolean,
): ContactField => {
  const value = stored?.value ?? null
  const label = valueLabel(def, value)
  return {
    id: def.id,
    label: def.label,
    kind: def.kind,
    type: def.type,
    value,
    display: label?.label ?? value,
    retiredOption: label?.retired ?? false,
    provenance: stored?.by ?? null,
    canEdit: editable,
    crmManaged: def.crmManaged,
    options: def.options.filter((o) => !o.retired || o.id === value),
    maxLength: def.maxLength,
    attribute: def,
  }
}

/** Reads a contact joined to the visible definitions. */
export function contactView(
  id: string,
  handle: ContactHandle | null,
  actor: Actor | null,
  channel?: ChannelId,
): ContactView {
  if (handle === null) return { id, profile: null, fields: [], vip: false, vipBy: null }
  const data = handle.read()
  const schema = handle.schemaHandle.schema
  const view = schema.view()
  const defs = schema.visibleDefinitions(channel ?? data.profile?.channel)
  const fields = defs.map((def) => {
    if (def.kind === 'platform') return field(def, data.platform[def.id], false)
    if (def.kind === 'standard') {
      // VIP: its value is the contact's flag ('true' when VIP, empty otherwise).
      const vip =
        data.vip === null ? undefined : { value: data.vip.value ? 'true' : '', by: data.vip.by }
      return {
        ...field(def, vip, actor !== null && canEdit(actor, { kind: 'vip' }, view)),
        value: data.vip?.value === true ? 'true' : null,
        display: data.vip?.value === true ? def.label : null,
      }
    }
    return field(
      def,
      data.custom[def.id],
      actor !== null && canEdit(actor, { kind: 'custom-value', attributeId: def.id }, view),
    )
  })
  return {
    id,
    profile: data.profile,
    fields,
    // Nobody is VIP while VIP is off (the flag is kept for when it is back on).
    vip: vipActive(schema.settings()) && (data.vip?.value ?? false),
    vipBy: data.vip?.by ?? null,
  }
}

const exists = (handle: ContactHandle): boolean => {
  const data = handle.read()
  return (
    data.profile !== null ||
    data.vip !== null ||
    Object.keys(data.custom).length > 0 ||
    Object.keys(data.platform).length > 0
  )
}

/**
 * A contact with its values joined to the visible attribute definitions in the admin's order,
 * per-field provenance and permissions, and setters that check before writing. Server
 * refusals arrive in `error` with their stable code.
 *
 * @example
 * function Panel({ contactId }: { contactId: string }) {
 *   const { data, found, setValue, error } = useContact(contactId)
 *   if (found === null) return <Skeleton />
 *   if (!found) return <p>No such contact</p>
 *   return data.fields.map((f) => (
 *     <Field key={f.id} field={f} onChange={(v) => setValue(f.id, v)} />
 *   ))
 * }
 *
 * @example
 * // A row that re-renders only when its own attribute changes:
 * const { data: plan } = useContact(id, { select: (c) => c.fields.find((f) => f.id === 'plan') })
 */
export function useContact<T>(
  id: string,
  options: UseContactOptions<T> & { readonly select: (contact: ContactView) => T },
): ContactResult<T>
export function useContact(
  id: string,
  options?: { readonly channel?: ChannelId },
): ContactResult<ContactView>
export function useContact<T>(
  id: string,
  options: UseContactOptions<T> = {},
): ContactResult<T | ContactView> {
  const client = useCardfileClient()
  const { channel, select } = options
  const snapshot = useDocumentSelector(contactAccess(client.workspace, id), (handle) => {
    const view = contactView(id, handle, client.actor(), channel)
    const load = loadStateOf(handle)
    const known = handle !== null && exists(handle)
    return {
      ...load,
      found: known ? true : load.source === 'server' ? false : null,
      data: select === undefined ? view : select(view),
    }
  })
  const setValue = useCallback(
    (attributeId: string, value: string) =>
      withContact(client, id, (h) => h.setValue(attributeId, value)),
    [client, id],
  )
  const clearValue = useCallback(
    (attributeId: string) => withContact(client, id, (h) => h.setValue(attributeId, null)),
    [client, id],
  )
  const setVip = useCallback(
    (vip: boolean) => withContact(client, id, (h) => h.setVip(vip)),
    [client, id],
  )
  return useMemo(
    () => ({ ...snapshot, setValue, clearValue, setVip }),
    [snapshot, setValue, clearValue, setVip],
  )
}
