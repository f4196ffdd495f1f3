/**
 * How Cardfile data is laid out inside Yjs documents. Every document is a set of root Y.Maps
 * whose values are plain JSON (never nested Yjs types). Keeping values flat means every change
 * is "key K of root map M went from A to B", which is what permissions and validation check and
 * what the server can undo with one compensating write when a change is refused.
 *
 * Document names: `<workspace>/schema`, `<workspace>/contact/<id>`,
 * `<workspace>/conversation/<id>`.
 */

/** Identifiers (workspace, attribute, option, contact, conversation, message ids). */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

/** Returns true when `id` is a well-formed Cardfile identifier. */
export const isValidId = (id: string): boolean => ID_PATTERN.test(id)

export type DocKind = 'schema' | 'contact' | 'conversation'

/** A parsed document name. */
export type DocName =
  | { readonly kind: 'schema'; readonly workspace: string }
  | { readonly kind: 'contact'; readonly workspace: string; readonly id: string }
  | { readonly kind: 'conversation'; readonly workspace: string; readonly id: string }

/** The root Y.Map names of each document kind; anything else in a document is refused. */
export const ROOT_MAPS = {
  schema: ['attributes', 'options', 'settings'],
  contact: ['profile', 'platform', 'custom', 'flags'],
  conversation: ['meta', 'messages'],
} as const satisfies Record<DocKind, readonly string[]>

export type RootMapName<K extends DocKind = DocKind> = (typeof ROOT_MAPS)[K][number]

/** `<workspace>/schema` */
export const schemaDocName = (workspace: string): string => `${workspace}/schema`
/** `<workspace>/contact/<id>` */
export const contactDocName = (workspace: string, id: string): string =>
  `${workspace}/contact/${id}`
/** `<workspace>/conversation/<id>` */
export const conversationDocName = (workspace: string, id: string): string =>
  `${workspace}/conversation/${id}`

/**
 * Parses a document name; returns null for anything that is not a well-formed Cardfile name.
 *
 * @example
 * parseDocName('demo/contact/c1') // { kind: 'contact', workspace: 'demo', id: 'c1' }
 */
export function parseDocName(name: string): DocName | null {
  const parts = name.split('/')
  const [workspace, kind, id] = parts
  if (workspace === undefined || !isValidId(workspace)) return null
  if (parts.length === 2 && kind === 'schema') return { kind: 'schema', workspace }
  if (parts.length === 3 && id !== undefined && isValidId(id)) {
    if (kind === 'contact') return { kind: 'contact', workspace, id }
    if (kind === 'conversation') return { kind: 'conversation', workspace, id }
  }
  return null
}

/** Formats a parsed document name back to its string form. */
export function formatDocName(name: DocName): string {
  return name.kind === 'schema'
    ? schemaDocName(name.workspace)
    : `${name.workspace}/${name.kind}/${name.id}`
}

/*
 * Keys inside the schema document's root maps:
 *
 *   attributes: `<attributeId>:<prop>` -> JSON     props: ATTRIBUTE_PROPS
 *               `<attributeId>:visible:<channel>`  -> boolean (platform attributes, per channel)
 *   options:    `<attributeId>:<optionId>:<prop>` -> JSON     props: OPTION_PROPS
 *   settings:   `<settingKey>` -> JSON                        keys: SETTING_KEYS
 *
 * Contact document:
 *   profile:  `channel` | `platformUserId` | `hint` | `createdAt`  -> JSON (system only)
 *   platform: `<attributeId>` -> FieldValue<string>                (system only)
 *   custom:   `<attributeId>` -> FieldValue<string>  (dropdown values hold the option id; every
 *             type's value is text in its canonical form, see value-types.ts)
 *   flags:    `vip` -> FieldValue<boolean>  (the value of the `vip` standard attribute)
 *             `crmValidated` -> boolean | null, `crmLookupAt` -> number | null,
 *             `crmPending` -> string[] (attribute ids)                 (system only: CRM_FLAG_KEYS)
 *
 * Conversation document:
 *   meta:     `contactId` | `channel` | `status` | `team` | `priority` | `createdAt` -> JSON
 *   messages: `<messageId>` -> Message
 */

/** Properties of an attribute definition, each its own key so concurrent edits merge per prop. */
export const ATTRIBUTE_PROPS = [
  'label',
  'kind',
  'type',
  'alias',
  'channels',
  'visible',
  'crmManaged',
  'lookup',
  'retired',
  'maxLength',
  'order',
  'rules',
] as const
export type AttributeProp = (typeof ATTRIBUTE_PROPS)[number]

/**
 * The properties every definition has. `rules` is optional: definitions written before rules
 * existed have none, and read as having no rule.
 */
export const REQUIRED_ATTRIBUTE_PROPS: readonly AttributeProp[] = ATTRIBUTE_PROPS.filter(
  (p) => p !== 'rules',
)

/** Properties of a dropdown option. */
export const OPTION_PROPS = ['label', 'order', 'retired'] as const
export type OptionProp = (typeof OPTION_PROPS)[number]

/** Keys of the settings map. */
export const SETTING_KEYS = [
  'vipEnabled',
  'vipTeam',
  'vipPriorityBoost',
  'matchingAttribute',
  'agentsMayEditCrm',
  'plan',
] as const
export type SettingKey = (typeof SETTING_KEYS)[number]

/**
 * Keys of a contact's `flags` map that the server's CRM integration writes (system only): did
 * the last lookup find a record, when it ran (ms since epoch), and which CRM-managed attributes
 * agents edited that wait for the next write-back.
 */
export const CRM_FLAG_KEYS = ['crmValidated', 'crmLookupAt', 'crmPending'] as const
export type CrmFlagKey = (typeof CRM_FLAG_KEYS)[number]

export const PROFILE_KEYS = ['channel', 'platformUserId', 'hint', 'createdAt'] as const
export const CONVERSATION_META_KEYS = [
  'contactId',
  'channel',
  'status',
  'team',
  'priority',
  'createdAt',
] as const

/** Key of an attribute property in the `attributes` map. */
export const attributeKey = (attributeId: string, prop: AttributeProp): string =>
  `${attributeId}:${prop}`

/** Key of a platform attribute's visibility on one channel in the `attributes` map. */
export const channelVisibilityKey = (attributeId: string, channel: string): string =>
  `${attributeId}:visible:${channel}`

/** Key of an option property in the `options` map. */
export const optionKey = (attributeId: string, optionId: string, prop: OptionProp): string =>
  `${attributeId}:${optionId}:${prop}`

/** A parsed key of the schema `attributes` map. */
export type ParsedAttributeKey =
  | { readonly attributeId: string; readonly prop: AttributeProp }
  | { readonly attributeId: string; readonly prop: 'channelVisible'; readonly channel: string }

/** Parses a key of the `attributes` map; null when malformed. */
export function parseAttributeKey(key: string): ParsedAttributeKey | null {
  const parts = key.split(':')
  const [attributeId, prop, channel] = parts
  if (attributeId === undefined || !isValidId(attributeId) || prop === undefined) return null
  if (parts.length === 3 && prop === 'visible' && channel !== undefined) {
    return { attributeId, prop: 'channelVisible', channel }
  }
  if (parts.length === 2 && (ATTRIBUTE_PROPS as readonly string[]).includes(prop)) {
    return { attributeId, prop: prop as AttributeProp }
  }
  return null
}

/** Parses a key of the `options` map; null when malformed. */
export function parseOptionKey(
  key: string,
): { readonly attributeId: string; readonly optionId: string; readonly prop: OptionProp } | null {
  const parts = key.split(':')
  if (parts.length !== 3) return null
  const [attributeId, optionId, prop] = parts as [string, string, string]
  if (!isValidId(attributeId) || !isValidId(optionId)) return null
  if (!(OPTION_PROPS as readonly string[]).includes(prop)) return null
  return { attributeId, optionId, prop: prop as OptionProp }
}
