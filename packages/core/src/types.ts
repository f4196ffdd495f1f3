/**
 * Plain data types of the Cardfile model. Documents store these as JSON values inside root
 * Y.Maps (see `document-layout.ts`); the typed APIs read and write them so callers never touch
 * raw Yjs types.
 */

/** Who is acting. `bot`, `crm` and `system` are service roles for integrations. */
export type Role = 'admin' | 'agent' | 'bot' | 'crm' | 'system'

/** Every role, for validation of tokens and inputs. */
export const ROLES: readonly Role[] = ['admin', 'agent', 'bot', 'crm', 'system']

/** A workspace's commercial plan; the capability table in `plans.ts` says what each allows. */
export type Plan = 'standard' | 'advanced' | 'business' | 'enterprise'

/** Every plan, for validation. */
export const PLANS: readonly Plan[] = ['standard', 'advanced', 'business', 'enterprise']

/** The channels a support inbox receives messages from. */
export type ChannelId = 'x' | 'instagram' | 'facebook' | 'whatsapp' | 'sms' | 'email' | 'webchat'

/** The authenticated actor behind a change. */
export interface Actor {
  readonly userId: string
  readonly role: Role
  readonly name?: string
}

/** Who or what set a value, and when (ms since epoch). Stored beside every value. */
export interface Provenance {
  readonly role: Role
  readonly userId: string
  readonly at: number
}

/** A stored value with its provenance. */
export interface FieldValue<T = string> {
  readonly value: T
  readonly by: Provenance
}

/**
 * `platform`: filled from channel metadata; `custom`: created by admins; `standard`: built into
 * the product (VIP, id {@link VIP_ATTRIBUTE_ID}): it has a place in the order, a visibility
 * switch, a label and an alias like the others, and its value is the contact's VIP flag.
 */
export type AttributeKind = 'platform' | 'custom' | 'standard'
/**
 * The type of an attribute's values. Every custom value is stored as text in one canonical form
 * per type (see `value-types.ts`): `text` and `longtext` free text, `dropdown` an option id,
 * `multiselect` option ids joined by commas, `number` a decimal such as `-12.5`, `date`
 * `YYYY-MM-DD`, `checkbox` `true`/`false`, `url`, `email` and `phone` their trimmed text.
 * `flag`: yes or no, the VIP standard attribute only (its value is the contact's VIP flag).
 */
export type AttributeType =
  | 'text'
  | 'longtext'
  | 'dropdown'
  | 'multiselect'
  | 'number'
  | 'date'
  | 'checkbox'
  | 'url'
  | 'email'
  | 'phone'
  | 'flag'

/** The id of the VIP standard attribute (reserved: no custom attribute may take it). */
export const VIP_ATTRIBUTE_ID = 'vip'
/**
 * Per-attribute rules (see `attribute-rules.ts`). Bounds and the default are stored values of
 * the attribute's type (`'10.5'`, `'2024-01-31'`); null when unset.
 */
export interface AttributeRules {
  /** A value is needed before a conversation of the contact can be resolved. */
  readonly required: boolean
  /** Text attributes: a regular expression (Unicode mode) every value matches. */
  readonly pattern: string | null
  /** Numbers and dates: the smallest and largest accepted value. */
  readonly min: string | null
  readonly max: string | null
  /** Numbers: most digits after the decimal point (0: whole numbers); null for up to 6. */
  readonly decimals: number | null
  /**
   * What a contact without a value reads as (shown in the panel, exported, and counted for
   * `required`); never written into contacts.
   */
  readonly default: string | null
  /** Shown under the input in the panel. */
  readonly help: string
}

/** One option of a dropdown attribute. Options are never deleted, only retired. */
export interface DropdownOption {
  readonly id: string
  readonly label: string
  /** Fractional-index key; options sort by key, ties by id. */
  readonly order: string
  readonly retired: boolean
}

/** An attribute definition as read from the schema document. */
export interface AttributeDefinition {
  readonly id: string
  readonly label: string
  readonly kind: AttributeKind
  readonly type: AttributeType
  /** Key used for this attribute in CRM requests and responses. */
  readonly alias: string
  /** Platform attributes: the channels whose metadata fills it. Custom: empty (every channel). */
  readonly channels: readonly ChannelId[]
  /** Custom attributes: shown on every channel or none. Ignored for platform attributes. */
  readonly visible: boolean
  /** Platform attributes: visibility per channel it belongs to. */
  readonly channelVisibility: Readonly<Partial<Record<ChannelId, boolean>>>
  /** The CRM is the source of truth (custom attributes only). */
  readonly crmManaged: boolean
  /** Its value is sent to the CRM to find the record. */
  readonly lookup: boolean
  /** Retired attributes are hidden everywhere; their values are kept. */
  readonly retired: boolean
  /** Longest accepted text value, in characters (text attributes). */
  readonly maxLength: number
  /** Fractional-index key; definitions sort by key, ties by id. */
  readonly order: string
  /** Dropdown and multi-select options in order (retired ones included, marked). */
  readonly options: readonly DropdownOption[]
  /** Required, pattern, bounds, default and help text. */
  readonly rules: AttributeRules
}

/** Workspace settings held in the schema document. */
export interface WorkspaceSettings {
  readonly vipEnabled: boolean
  readonly vipTeam: string | null
  readonly vipPriorityBoost: number
  /** The attribute whose equal values link contacts across channels; null for none. */
  readonly matchingAttribute: string | null
  /** Whether agents may add and edit CRM-managed attributes (write-back); admins always may. */
  readonly agentsMayEditCrm: boolean
  readonly plan: Plan
}

/** Profile of a contact: one channel identity. Written by the system only. */
export interface ContactProfile {
  readonly channel: ChannelId
  readonly platformUserId: string
  /** A masked handle safe to show in lists and audit records, such as `@an***a`. */
  readonly hint: string
  readonly createdAt: number
}

/** A contact read from its document. */
export interface ContactData {
  readonly id: string
  readonly profile: ContactProfile | null
  readonly platform: Readonly<Record<string, FieldValue>>
  readonly custom: Readonly<Record<string, FieldValue>>
  readonly vip: FieldValue<boolean> | null
}

export type ConversationStatus = 'new' | 'pending' | 'resolved'

/** A reference to an attachment stored outside the document. */
export interface AttachmentRef {
  readonly id: string
  readonly name: string
  readonly contentType: string
  readonly size: number
}

/** One message of a conversation. */
export interface Message {
  readonly id: string
  /** `inbound` from the contact, `outbound` from an agent, bot or system. */
  readonly direction: 'inbound' | 'outbound'
  readonly author: Provenance
  readonly text: string
  readonly at: number
  readonly attachments: readonly AttachmentRef[]
}

/** Conversation metadata read from its document. */
export interface ConversationMeta {
  readonly contactId: string
  readonly channel: ChannelId
  readonly status: ConversationStatus
  readonly team: string | null
  readonly priority: number
  readonly createdAt: number
}
