import { isChannelId } from './channels'
import { isValidId } from './document-layout'
import type { AttachmentRef, ConversationStatus, Message, Provenance, Role } from './types'
import { ROLES } from './types'

/*
 * Shape checks of the JSON values stored in contact and conversation documents. Documents can
 * hold anything a hostile client wrote before the server undid it, so readers use these to
 * skip malformed entries and the change policy uses them to refuse them.
 */

/** Longest message text, in characters. */
export const MAX_MESSAGE_LENGTH = 20_000
/** Longest free-form string stored in a profile or a team name. */
export const MAX_SHORT_TEXT = 500

export type JsonRecord = Record<string, unknown>

export const isRecord = (value: unknown): value is JsonRecord =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

export const isTime = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0

export const isRole = (value: unknown): value is Role =>
  (ROLES as readonly unknown[]).includes(value)

export function isProvenance(value: unknown): value is Provenance {
  return (
    isRecord(value) &&
    isRole(value.role) &&
    typeof value.userId === 'string' &&
    value.userId.length > 0 &&
    value.userId.length <= 200 &&
    isTime(value.at)
  )
}

/** A stored value with provenance: `{ value, by }`, `value` passing `isValue`. */
export function isFieldValueOf<T>(
  value: unknown,
  isValue: (v: unknown) => v is T,
): value is { value: T; by: Provenance } {
  return (
    isRecord(value) &&
    Object.keys(value).every((k) => k === 'value' || k === 'by') &&
    isValue(value.value) &&
    isProvenance(value.by)
  )
}

export const isString = (v: unknown): v is string => typeof v === 'string'
export const isStringOrNull = (v: unknown): v is string | null => v === null || isString(v)
export const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean'

export const CONVERSATION_STATUSES: readonly ConversationStatus[] = ['new', 'pending', 'resolved']

export const isConversationStatus = (v: unknown): v is ConversationStatus =>
  (CONVERSATION_STATUSES as readonly unknown[]).includes(v)

function isAttachment(value: unknown): value is AttachmentRef {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    isValidId(value.id) &&
    typeof value.name === 'string' &&
    value.name.length <= MAX_SHORT_TEXT &&
    typeof value.contentType === 'string' &&
    value.contentType.length <= 200 &&
    typeof value.size === 'number' &&
    Number.isInteger(value.size) &&
    value.size >= 0
  )
}

/** A well-formed message stored under `key` (its id). */
export function isMessage(value: unknown, key: string): value is Message {
  return (
    isRecord(value) &&
    value.id === key &&
    isValidId(key) &&
    (value.direction === 'inbound' || value.direction === 'outbound') &&
    isProvenance(value.author) &&
    typeof value.text === 'string' &&
    value.text.length <= MAX_MESSAGE_LENGTH &&
    isTime(value.at) &&
    Array.isArray(value.attachments) &&
    value.attachments.length <= 100 &&
    value.attachments.every(isAttachment)
  )
}

/** Checks one profile key's value. */
export function isProfileValue(key: string, value: unknown): boolean {
  switch (key) {
    case 'channel':
      return isChannelId(value)
    case 'platformUserId':
      return typeof value === 'string' && value.length > 0 && value.length <= MAX_SHORT_TEXT
    case 'hint':
      return typeof value === 'string' && value.length <= MAX_SHORT_TEXT
    case 'createdAt':
      return isTime(value)
    default:
      return false
  }
}

/** Checks one conversation meta key's value. */
export function isMetaValue(key: string, value: unknown): boolean {
  switch (key) {
    case 'contactId':
      return typeof value === 'string' && isValidId(value)
    case 'channel':
      return isChannelId(value)
    case 'status':
      return isConversationStatus(value)
    case 'team':
      return value === null || (typeof value === 'string' && isValidId(value))
    case 'priority':
      return typeof value === 'number' && Number.isFinite(value)
    case 'createdAt':
      return isTime(value)
    default:
      return false
  }
}
