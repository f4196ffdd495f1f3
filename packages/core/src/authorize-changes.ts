import { isOrderKey } from './attribute-order'
import { checkRulesShape } from './attribute-rules'
import type { FieldChange, PolicyContext, Refusal } from './change-policy'
import { NON_JSON_VALUE } from './change-policy'
import { isChannelId } from './channels'
import {
  CONVERSATION_META_KEYS,
  CRM_FLAG_KEYS,
  OPTION_PROPS,
  PROFILE_KEYS,
  REQUIRED_ATTRIBUTE_PROPS,
  ROOT_MAPS,
  SETTING_KEYS,
  attributeKey,
  isValidId,
  optionKey,
  parseAttributeKey,
  parseOptionKey,
} from './document-layout'
import type { AttributeProp, CrmFlagKey, DocKind, OptionProp, SettingKey } from './document-layout'
import { ErrorCodes, OK, refuse } from './errors'
import type { CheckResult } from './errors'
import { checkCrmManagedMark, checkMessageSender, checkWrite } from './permissions'
import type { ConversationMetaKey, FieldRef, ProfileKey } from './permissions'
import { readDefinition } from './schema-read'
import { sameJson } from './same-json'
import type { Actor, AttributeDefinition } from './types'
import { missingRequired, validateDefinitions, validateSetting, validateValue } from './validation'
import { isAttributeType } from './value-types'
import {
  isBoolean,
  isFieldValueOf,
  isMessage,
  isMetaValue,
  isProfileValue,
  isRecord,
  isString,
  isStringOrNull,
} from './value-shapes'

/** How far in the future a provenance time may be (client clocks drift). */
export const MAX_CLOCK_SKEW_MS = 60 * 60 * 1000

const includes = <T extends string>(list: readonly T[], value: string): value is T =>
  (list as readonly string[]).includes(value)

/**
 * The field a key of a root map names in a document of kind `kind`, or null when the map or
 * the key is not part of the layout. `existing` tells a new message from an existing one.
 *
 * @example
 * fieldRefOf('contact', 'custom', 'plan') // { kind: 'custom-value', attributeId: 'plan' }
 */
export function fieldRefOf(
  kind: DocKind,
  map: string,
  key: string,
  existing = false,
): FieldRef | null {
  if (!(ROOT_MAPS[kind] as readonly string[]).includes(map)) return null
  switch (map) {
    case 'attributes': {
      const parsed = parseAttributeKey(key)
      if (!parsed) return null
      if (parsed.prop === 'channelVisible') {
        return isChannelId(parsed.channel)
          ? {
              kind: 'channel-visibility',
              attributeId: parsed.attributeId,
              channel: parsed.channel,
            }
          : null
      }
      return { kind: 'attribute', attributeId: parsed.attributeId, prop: parsed.prop }
    }
    case 'options': {
      const parsed = parseOptionKey(key)
      return parsed && { kind: 'option', ...parsed }
    }
    case 'settings':
      return includes<SettingKey>(SETTING_KEYS, key) ? { kind: 'setting', key } : null
    case 'profile':
      return includes<ProfileKey>(PROFILE_KEYS, key) ? { kind: 'profile', key } : null
    case 'platform':
      return isValidId(key) ? { kind: 'platform-value', attributeId: key } : null
    case 'custom':
      return isValidId(key) ? { kind: 'custom-value', attributeId: key } : null
    case 'flags':
      if (key === 'vip') return { kind: 'vip' }
      return includes<CrmFlagKey>(CRM_FLAG_KEYS, key) ? { kind: 'crm-status', key } : null
    case 'meta':
      return includes<ConversationMetaKey>(CONVERSATION_META_KEYS, key)
        ? { kind: 'conversation-meta', key }
        : null
    case 'messages':
      return isValidId(key) ? { kind: 'message', messageId: key, existing } : null
    default:
      return null
  }
}

const invalid = (message: string): CheckResult => refuse(ErrorCodes.InvalidValue, message)

function checkProvenance(
  by: { role: string; userId: string; at: number },
  actor: Actor,
  now: number,
): CheckResult {
  // The system (the server itself, channel ingestion) may record who a value came from, for
  // example the CRM after a lookup; everyone else signs as themselves.
  if (actor.role !== 'system' && (by.role !== actor.role || by.userId !== actor.userId)) {
    return refuse(
      ErrorCodes.ProvenanceMismatch,
      `the value claims to come from ${by.role} ${by.userId}, not from its sender`,
    )
  }
  if (by.at > now + MAX_CLOCK_SKEW_MS) {
    return refuse(ErrorCodes.ProvenanceMismatch, 'the value is dated in the future')
  }
  return OK
}

function checkAttributeProp(prop: AttributeProp | 'channelVisible', value: unknown): CheckResult {
  switch (prop) {
    case 'label':
    case 'alias':
      return typeof value === 'string' ? OK : invalid(`${prop} must be text`)
    case 'kind':
      return value === 'platform' || value === 'custom' || value === 'standard'
        ? OK
        : invalid('unknown kind')
    case 'type':
      return isAttributeType(value) ? OK : invalid('unknown type')
    case 'rules':
      return checkRulesShape(value)
    case 'channels':
      return Array.isArray(value) && value.every(isChannelId) ? OK : invalid('unknown channels')
    case 'maxLength':
      return Number.isInteger(value) ? OK : invalid('maxLength must be an integer')
    case 'order':
      return isOrderKey(value) ? OK : invalid('malformed order key')
    default:
      return typeof value === 'boolean' ? OK : invalid(`${prop} must be true or false`)
  }
}

function checkOptionProp(prop: OptionProp, value: unknown): CheckResult {
  switch (prop) {
    case 'label':
      return typeof value === 'string' ? OK : invalid('an option label must be text')
    case 'order':
      return isOrderKey(value) ? OK : invalid('malformed order key')
    case 'retired':
      return typeof value === 'boolean' ? OK : invalid('retired must be true or false')
  }
}

/** The change being judged, with the field it names once resolved. */
interface Judged {
  readonly change: FieldChange
  readonly field: FieldRef | null
  verdict: CheckResult
}

function judgeSchemaChange(j: Judged, ctx: PolicyContext): CheckResult {
  const { change, field } = j
  if (!field) return OK
  const value = change.newValue
  if (value === undefined) {
    return invalid('schema entries are never deleted: retire them instead')
  }
  switch (field.kind) {
    case 'attribute': {
      const shape = checkAttributeProp(field.prop, value)
      if (!shape.ok) return shape
      const fixed = field.prop === 'kind' || field.prop === 'type' || field.prop === 'channels'
      if (fixed && change.oldValue !== undefined && !sameJson(change.oldValue, value)) {
        return refuse(ErrorCodes.ImmutableField, `the ${field.prop} of an attribute never changes`)
      }
      if (
        field.prop === 'kind' &&
        change.oldValue === undefined &&
        value === 'platform' &&
        ctx.actor.role !== 'system'
      ) {
        return refuse(ErrorCodes.Forbidden, 'platform attributes come from the channel catalogue')
      }
      if (
        field.prop === 'kind' &&
        change.oldValue === undefined &&
        value === 'standard' &&
        ctx.actor.role !== 'system'
      ) {
        return refuse(ErrorCodes.Forbidden, 'the VIP attribute is written by the server')
      }
      if (field.prop === 'crmManaged' && value === true && change.oldValue !== true) {
        return checkCrmManagedMark(ctx.actor, ctx)
      }
      return OK
    }
    case 'channel-visibility': {
      const shape = checkAttributeProp('channelVisible', value)
      if (!shape.ok) return shape
      const channels = ctx.read('attributes', attributeKey(field.attributeId, 'channels'))
      return Array.isArray(channels) && channels.includes(field.channel)
        ? OK
        : invalid(`the attribute does not belong to ${field.channel}`)
    }
    case 'option':
      return checkOptionProp(field.prop, value)
    default:
      return OK
  }
}

function authorizeSchema(judged: Judged[], ctx: PolicyContext): void {
  for (const j of judged) {
    if (j.verdict.ok) j.verdict = judgeSchemaChange(j, ctx)
  }

  // Group changes by attribute: a definition is judged as a whole, in its post-change state.
  const groups = new Map<string, Judged[]>()
  const optionIds = new Map<string, Set<string>>()
  for (const j of judged) {
    const field = j.field
    if (
      !field ||
      (field.kind !== 'attribute' && field.kind !== 'channel-visibility' && field.kind !== 'option')
    ) {
      continue
    }
    const group = groups.get(field.attributeId) ?? []
    group.push(j)
    groups.set(field.attributeId, group)
    if (field.kind === 'option') {
      const ids = optionIds.get(field.attributeId) ?? new Set()
      ids.add(field.optionId)
      optionIds.set(field.attributeId, ids)
    }
  }

  const postState = new Map<string, AttributeDefinition>(ctx.definitions)
  const complete = new Map<string, CheckResult>()
  const readAttribute = (key: string) => ctx.read('attributes', key)
  const readOption = (key: string) => ctx.read('options', key)
  for (const id of groups.keys()) {
    const ids = new Set([
      ...(ctx.definitions.get(id)?.options.map((o) => o.id) ?? []),
      ...(optionIds.get(id) ?? []),
    ])
    const missingProp = REQUIRED_ATTRIBUTE_PROPS.find(
      (p) => readAttribute(attributeKey(id, p)) === undefined,
    )
    const missingOption = [...ids].find((o) =>
      OPTION_PROPS.some((p) => readOption(optionKey(id, o, p)) === undefined),
    )
    complete.set(
      id,
      missingProp !== undefined
        ? refuse(ErrorCodes.InvalidDefinition, `the definition lacks its ${missingProp}`)
        : missingOption !== undefined
          ? refuse(ErrorCodes.InvalidDefinition, `option ${missingOption} is incomplete`)
          : OK,
    )
    postState.set(id, readDefinition(id, readAttribute, readOption, ids))
  }

  const earlier = new Map<string, CheckResult>()
  for (const [id, group] of groups) {
    earlier.set(id, group.find((j) => !j.verdict.ok)?.verdict ?? complete.get(id) ?? OK)
  }
  const whole = validateDefinitions(
    [...earlier].filter(([, v]) => v.ok).map(([id]) => postState.get(id)!),
    postState.values(),
  )
  for (const [id, group] of groups) {
    let verdict = earlier.get(id) ?? OK
    if (verdict.ok) verdict = whole.get(id) ?? OK
    if (verdict.ok) continue
    // All or nothing per definition: restoring every key of it restores the valid definition
    // it was before the transaction.
    for (const j of group) if (j.verdict.ok) j.verdict = verdict
  }

  for (const j of judged) {
    if (!j.verdict.ok || j.field?.kind !== 'setting') continue
    if (j.change.newValue === undefined) {
      j.verdict = invalid('settings are never deleted')
      continue
    }
    j.verdict = validateSetting(j.field.key, j.change.newValue, postState)
  }
}

function judgeContactChange(j: Judged, ctx: PolicyContext): CheckResult {
  const { change, field } = j
  if (!field) return OK
  const value = change.newValue
  switch (field.kind) {
    case 'profile':
      if (value === undefined) return invalid('the profile is never deleted')
      return isProfileValue(field.key, value) ? OK : invalid(`malformed ${field.key}`)
    case 'platform-value': {
      if (value === undefined) return OK
      if (!isFieldValueOf(value, isString)) return invalid('malformed platform value')
      const provenance = checkProvenance(value.by, ctx.actor, ctx.now)
      if (!provenance.ok) return provenance
      return validateValue(ctx.definitions.get(field.attributeId), value.value, 'platform')
    }
    case 'custom-value': {
      // Clearing: a raw delete or a raw null, by whoever may write the value. A null under a key
      // that was absent clears nothing and adds a key: only for an attribute that exists (a
      // client could otherwise fill a contact with any number of junk keys).
      if (value === undefined) return OK
      if (value === null) {
        if (change.oldValue !== undefined) return OK
        return validateValue(ctx.definitions.get(field.attributeId), null, 'custom')
      }
      if (!isFieldValueOf(value, isStringOrNull)) return invalid('malformed value')
      const provenance = checkProvenance(value.by, ctx.actor, ctx.now)
      if (!provenance.ok) return provenance
      return validateValue(ctx.definitions.get(field.attributeId), value.value, 'custom')
    }
    case 'crm-status':
      if (value === undefined || value === null) return OK
      if (field.key === 'crmValidated') {
        return typeof value === 'boolean' ? OK : invalid('crmValidated must be true or false')
      }
      if (field.key === 'crmLookupAt') {
        return Number.isFinite(value) ? OK : invalid('crmLookupAt must be a time')
      }
      return Array.isArray(value) && value.every((id) => typeof id === 'string' && isValidId(id))
        ? OK
        : invalid('crmPending must list attribute ids')
    case 'vip': {
      if (value === undefined) return invalid('the VIP flag is set to false, never deleted')
      if (!isFieldValueOf(value, isBoolean)) return invalid('malformed VIP flag')
      return checkProvenance(value.by, ctx.actor, ctx.now)
    }
    default:
      return OK
  }
}

function judgeConversationChange(j: Judged, ctx: PolicyContext): CheckResult {
  const { change, field } = j
  if (!field) return OK
  const value = change.newValue
  switch (field.kind) {
    case 'conversation-meta':
      if (value === undefined) return invalid('conversation metadata is never deleted')
      if (!isMetaValue(field.key, value)) return invalid(`malformed ${field.key}`)
      if (field.key === 'status' && value === 'resolved' && change.oldValue !== 'resolved') {
        return checkResolvable(ctx)
      }
      return OK
    case 'message': {
      // Deleting a message is for the system only, which checkWrite already ensured.
      if (value === undefined) return OK
      if (!isMessage(value, field.messageId)) return invalid('malformed message')
      if (!isRecord(value.author)) return invalid('malformed author')
      const sender = checkMessageSender(ctx.actor, value)
      if (!sender.ok) return sender
      // The message time orders the history of every linked contact: one dated years ahead
      // would stay on top of it for good.
      if (value.at > ctx.now + MAX_CLOCK_SKEW_MS) {
        return refuse(ErrorCodes.ProvenanceMismatch, 'the message is dated in the future')
      }
      return checkProvenance(value.author, ctx.actor, ctx.now)
    }
    default:
      return OK
  }
}

/**
 * A conversation may be resolved once its contact holds a value of every required attribute
 * (the system, closing conversations itself, is not held to it).
 */
function checkResolvable(ctx: PolicyContext): CheckResult {
  if (ctx.actor.role === 'system') return OK
  const required = [...ctx.definitions.values()].filter(
    (d) => d.kind === 'custom' && !d.retired && d.rules.required,
  )
  if (required.length === 0) return OK
  const contactId = ctx.read('meta', 'contactId')
  if (typeof contactId !== 'string') return OK
  const reader = ctx.contactValues?.(contactId)
  if (reader === null) return OK
  if (reader === undefined) {
    return refuse(ErrorCodes.Unavailable, "the contact's values are being loaded: try again")
  }
  const missing = missingRequired(required, (id) => {
    const entry = reader(id)
    return isRecord(entry) ? entry.value : undefined
  })
  if (missing.length === 0) return OK
  return refuse(
    ErrorCodes.RequiredMissing,
    `fill in ${missing.map((d) => d.label).join(', ')} before resolving the conversation`,
  )
}

/**
 * Decides which changes of one client transaction stand. The server calls it with every key
 * the transaction changed and, for each refusal, restores the key's `oldValue` in a
 * compensating transaction (persisted and relayed with the original) and tells the sender.
 *
 * Checks, in order: the root map and key exist in the layout (`unknown-field`); the value is
 * plain JSON (`invalid-value`); the actor may write the field ({@link checkWrite}); deletes
 * only where meaningful (custom and platform values, messages by the system); the value's
 * shape and its validity against its definition (`validateValue`); provenance names the actor
 * (`provenance-mismatch`); kind, type and channels never change (`immutable-field`: a type
 * changes through the server's conversion, which converts every value or refuses); a
 * conversation is resolved only when its contact has every required value (`required-missing`,
 * read through `ctx.contactValues`); and every
 * touched definition, read whole after the change, passes `validateDefinition`. A
 * definition is all or nothing: when one change to it is refused, every change to it is.
 *
 * @example
 * const refusals = authorizeChanges(changes, {
 *   actor, doc: parseDocName(name)!, definitions, settings, now: Date.now(),
 *   read: (map, key) => doc.getMap(map).get(key),
 * })
 * for (const r of refusals) restore(r.map, r.key)
 */
export function authorizeChanges(changes: readonly FieldChange[], ctx: PolicyContext): Refusal[] {
  const kind = ctx.doc.kind
  const judged: Judged[] = changes.map((change) => {
    const field = fieldRefOf(kind, change.map, change.key, change.oldValue !== undefined)
    let verdict: CheckResult
    if (!field) {
      verdict = refuse(
        ErrorCodes.UnknownField,
        `${change.map}:${change.key} is not part of a ${kind} document`,
      )
    } else if (change.newValue === NON_JSON_VALUE || change.oldValue === NON_JSON_VALUE) {
      verdict = invalid('values are plain JSON')
    } else {
      verdict = checkWrite(ctx.actor, field, ctx)
    }
    return { change, field, verdict }
  })

  if (kind === 'schema') {
    authorizeSchema(judged, ctx)
  } else {
    const judge = kind === 'contact' ? judgeContactChange : judgeConversationChange
    for (const j of judged) if (j.verdict.ok) j.verdict = judge(j, ctx)
  }

  const refusals: Refusal[] = []
  for (const { change, verdict } of judged) {
    if (!verdict.ok) {
      refusals.push({
        map: change.map,
        key: change.key,
        code: verdict.code,
        message: verdict.message,
      })
    }
  }
  return refusals
}
