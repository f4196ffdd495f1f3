import type {
  AttributeProp,
  CONVERSATION_META_KEYS,
  CrmFlagKey,
  OptionProp,
  PROFILE_KEYS,
  SettingKey,
} from './document-layout'
import { ErrorCodes, OK, refuse } from './errors'
import type { CheckResult } from './errors'
import { capabilities } from './plans'
import type { Actor, AttributeDefinition, ChannelId, Role, WorkspaceSettings } from './types'

/** A key of a contact's profile map. */
export type ProfileKey = (typeof PROFILE_KEYS)[number]
/** A key of a conversation's meta map. */
export type ConversationMetaKey = (typeof CONVERSATION_META_KEYS)[number]

/**
 * Names one writable field of one document. Every key of every root map maps to exactly one
 * `FieldRef` (see `fieldRefOf` in authorize-changes).
 */
export type FieldRef =
  /** A property of an attribute definition (schema `attributes` map). */
  | { readonly kind: 'attribute'; readonly attributeId: string; readonly prop: AttributeProp }
  /** A platform attribute's visibility on one channel (schema `attributes` map). */
  | {
      readonly kind: 'channel-visibility'
      readonly attributeId: string
      readonly channel: ChannelId
    }
  /** A property of a dropdown option (schema `options` map). */
  | {
      readonly kind: 'option'
      readonly attributeId: string
      readonly optionId: string
      readonly prop: OptionProp
    }
  /** A workspace setting (schema `settings` map). */
  | { readonly kind: 'setting'; readonly key: SettingKey }
  /** A contact's profile (contact `profile` map). */
  | { readonly kind: 'profile'; readonly key: ProfileKey }
  /** A platform attribute value of a contact (contact `platform` map). */
  | { readonly kind: 'platform-value'; readonly attributeId: string }
  /** A custom attribute value of a contact (contact `custom` map). */
  | { readonly kind: 'custom-value'; readonly attributeId: string }
  /** The VIP flag of a contact (contact `flags` map, key `vip`). */
  | { readonly kind: 'vip' }
  /** The CRM status of a contact (contact `flags` map, keys `CRM_FLAG_KEYS`). */
  | { readonly kind: 'crm-status'; readonly key: CrmFlagKey }
  /** Conversation metadata (conversation `meta` map). */
  | { readonly kind: 'conversation-meta'; readonly key: ConversationMetaKey }
  /** A message; `existing` when the message was already there (edit or delete). */
  | { readonly kind: 'message'; readonly messageId: string; readonly existing: boolean }

/** What permission checks read: the workspace's definitions and settings (a `SchemaView`). */
export interface PermissionContext {
  readonly settings: WorkspaceSettings
  readonly definitions: ReadonlyMap<string, AttributeDefinition>
}

const forbidden = (actor: Actor, what: string): CheckResult =>
  refuse(ErrorCodes.Forbidden, `the ${actor.role} role may not ${what}`)

const isOneOf = (role: Role, roles: readonly Role[]): boolean => roles.includes(role)

// Platform attributes are fixed by their channels: admins may rename them, give them a CRM
// alias, make them lookup attributes, switch them per channel and place them; nothing else.
const ADMIN_PLATFORM_PROPS: ReadonlySet<AttributeProp> = new Set([
  'label',
  'alias',
  'lookup',
  'order',
])

// VIP, the standard attribute: admins may rename it, give it a CRM alias, switch it on or off
// in the list and place it; what it is stays fixed.
const ADMIN_STANDARD_PROPS: ReadonlySet<AttributeProp> = new Set([
  'label',
  'alias',
  'visible',
  'order',
])

function checkSchema(actor: Actor, field: FieldRef, ctx: PermissionContext): CheckResult {
  if (actor.role === 'system') return OK
  if (actor.role !== 'admin') return forbidden(actor, 'change the workspace schema')
  switch (field.kind) {
    case 'setting':
      return field.key === 'plan'
        ? refuse(ErrorCodes.Forbidden, 'the plan is set by the server, not by admins')
        : OK
    case 'attribute': {
      const def = ctx.definitions.get(field.attributeId)
      if (def?.kind === 'platform' && !ADMIN_PLATFORM_PROPS.has(field.prop)) {
        return refuse(
          ErrorCodes.Forbidden,
          `${field.prop} of a platform attribute is fixed by its channels`,
        )
      }
      if (def?.kind === 'standard' && !ADMIN_STANDARD_PROPS.has(field.prop)) {
        return refuse(ErrorCodes.Forbidden, `${field.prop} of VIP is fixed`)
      }
      return OK
    }
    case 'option': {
      const def = ctx.definitions.get(field.attributeId)
      return def?.kind === 'platform' || def?.kind === 'standard'
        ? refuse(ErrorCodes.Forbidden, `${def.kind} attributes have no options`)
        : OK
    }
    default:
      return OK
  }
}

function checkCustomValue(actor: Actor, attributeId: string, ctx: PermissionContext): CheckResult {
  const plan = capabilities(ctx.settings.plan)
  const marked = ctx.definitions.get(attributeId)?.crmManaged === true
  // On a plan without the CRM nothing writes a CRM-managed attribute for the workspace, so
  // the mark rests (a lowered plan keeps it for when the CRM comes back) and locks nobody out.
  const crmManaged = marked && plan.crm
  switch (actor.role) {
    case 'system':
      return OK
    case 'crm':
      if (!plan.crm) return refuse(ErrorCodes.PlanLacksFeature, 'the plan has no CRM integration')
      return crmManaged ? OK : forbidden(actor, 'write attributes that are not CRM-managed')
    case 'bot':
      return crmManaged
        ? refuse(ErrorCodes.CrmManagedLocked, 'CRM-managed attributes are written by the CRM')
        : OK
    case 'admin':
      // Admins correct what the CRM wrote; the workspace setting only governs agents.
      return OK
    case 'agent':
      if (!plan.agentValueEdits) {
        return refuse(ErrorCodes.PlanLacksFeature, 'the plan does not let agents enter values')
      }
      if (crmManaged && !(ctx.settings.agentsMayEditCrm && plan.crmAgentEdits)) {
        return refuse(
          ErrorCodes.CrmManagedLocked,
          'CRM-managed attributes are edited in the CRM (agent edits are off)',
        )
      }
      return OK
  }
}

/**
 * May `actor` mark an attribute CRM-managed? Only on a plan with the CRM (`plan-lacks-feature`
 * otherwise: nothing would ever write the attribute), by an admin or the system. Unmarking is
 * always allowed to whoever may change the schema.
 *
 * @example
 * checkCrmManagedMark(admin, schema.view()) // { ok: false, code: 'plan-lacks-feature', ... } on business
 */
export function checkCrmManagedMark(actor: Actor, ctx: PermissionContext): CheckResult {
  if (actor.role !== 'admin' && actor.role !== 'system') {
    return forbidden(actor, 'change the workspace schema')
  }
  return capabilities(ctx.settings.plan).crm
    ? OK
    : refuse(
        ErrorCodes.PlanLacksFeature,
        'the plan has no CRM integration: no attribute can be CRM-managed',
      )
}

/**
 * May `actor` write `field`? Pure; the server enforces it on every change and UIs call it (or
 * {@link canEdit}) to hide what a user cannot do.
 *
 * - schema (definitions, options, settings): admins and the system; the `plan` setting and the
 *   fixed properties of platform attributes: the system only;
 * - contact profile and platform values: the system only;
 * - custom values: admins (always, CRM-managed ones included), agents when the plan allows
 *   agent value edits, the bot (not CRM-managed ones), the CRM (CRM-managed ones only, on a plan
 *   with CRM), the system; CRM-managed values by agents only when `agentsMayEditCrm` is on and
 *   the plan has CRM agent edits (`crm-managed-locked`); on a plan without the CRM the mark
 *   locks nobody out;
 * - CRM status flags (validated, last lookup, pending write-backs): the system only;
 * - VIP: admins, agents and the system, when the plan has VIP (`plan-lacks-feature`) and VIP is
 *   switched on (`vip-disabled`);
 * - conversation status: agents, admins, the bot, the system; team and priority: admins and the
 *   system; contact id, channel and creation time: the system;
 * - messages: anyone but the CRM may add one; existing messages are immutable (the system may).
 *
 * @example
 * checkWrite({ userId: 'u1', role: 'agent' }, { kind: 'vip' }, schema.view())
 * // { ok: false, code: 'vip-disabled', ... } when an admin switched VIP off
 */
export function checkWrite(actor: Actor, field: FieldRef, ctx: PermissionContext): CheckResult {
  switch (field.kind) {
    case 'attribute':
    case 'channel-visibility':
    case 'option':
    case 'setting':
      return checkSchema(actor, field, ctx)
    case 'profile':
      return actor.role === 'system' ? OK : forbidden(actor, 'change a contact profile')
    case 'platform-value':
      return actor.role === 'system'
        ? OK
        : forbidden(actor, 'change platform attributes (they come from the channel)')
    case 'custom-value':
      return checkCustomValue(actor, field.attributeId, ctx)
    case 'vip': {
      if (!isOneOf(actor.role, ['admin', 'agent', 'system'])) return forbidden(actor, 'set VIP')
      if (!capabilities(ctx.settings.plan).vip) {
        return refuse(ErrorCodes.PlanLacksFeature, 'the plan has no VIP')
      }
      if (!ctx.settings.vipEnabled) return refuse(ErrorCodes.VipDisabled, 'VIP is switched off')
      return OK
    }
    case 'crm-status':
      // Only the server's CRM integration records lookups and pending write-backs.
      return actor.role === 'system' ? OK : forbidden(actor, 'change the CRM status of a contact')
    case 'conversation-meta':
      switch (field.key) {
        case 'status':
          return isOneOf(actor.role, ['agent', 'admin', 'bot', 'system'])
            ? OK
            : forbidden(actor, 'change the status of a conversation')
        case 'team':
        case 'priority':
          return isOneOf(actor.role, ['admin', 'system'])
            ? OK
            : forbidden(actor, `change the ${field.key} of a conversation`)
        default:
          return actor.role === 'system'
            ? OK
            : forbidden(actor, `change the ${field.key} of a conversation`)
      }
    case 'message':
      if (field.existing) {
        return actor.role === 'system' ? OK : forbidden(actor, 'change a message once sent')
      }
      return actor.role === 'crm' ? forbidden(actor, 'post messages') : OK
  }
}

/**
 * May `actor` post `message` (a new one)? Beyond {@link checkWrite} for the message field: a
 * message `inbound` from the contact comes from its channel, so only the system posts one; an
 * agent or a bot replying posts `outbound`. (An inbound message shows as the contact's words,
 * moves the conversation back to `new` and is what routing and the CRM react to.)
 *
 * @example
 * checkMessageSender(agent, { ...reply, direction: 'inbound' }) // { ok: false, code: 'forbidden' }
 */
export function checkMessageSender(
  actor: Actor,
  message: { readonly direction: string },
): CheckResult {
  if (message.direction === 'inbound' && actor.role !== 'system') {
    return forbidden(actor, 'post a message as the contact (inbound messages come from channels)')
  }
  return OK
}

/**
 * `checkWrite(...).ok`, for UIs deciding what to show.
 *
 * @example
 * const editable = canEdit(actor, { kind: 'custom-value', attributeId: 'plan' }, schema.view())
 */
export function canEdit(actor: Actor, field: FieldRef, ctx: PermissionContext): boolean {
  return checkWrite(actor, field, ctx).ok
}
