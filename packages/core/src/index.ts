/**
 * @cardfile/core: the Cardfile document model, validation, permissions and sync client.
 * Exports are written out by hand: anything not listed here is internal.
 */
export type {
  Actor,
  AttachmentRef,
  AttributeDefinition,
  AttributeKind,
  AttributeType,
  ChannelId,
  ContactData,
  ContactProfile,
  ConversationMeta,
  ConversationStatus,
  DropdownOption,
  FieldValue,
  Message,
  Plan,
  Provenance,
  Role,
  WorkspaceSettings,
} from './types'
export { PLANS, ROLES } from './types'
export type {
  AttributeProp,
  DocKind,
  DocName,
  OptionProp,
  ParsedAttributeKey,
  RootMapName,
  SettingKey,
} from './document-layout'
export {
  ATTRIBUTE_PROPS,
  CONVERSATION_META_KEYS,
  ID_PATTERN,
  OPTION_PROPS,
  PROFILE_KEYS,
  ROOT_MAPS,
  SETTING_KEYS,
  attributeKey,
  channelVisibilityKey,
  contactDocName,
  conversationDocName,
  formatDocName,
  isValidId,
  optionKey,
  parseAttributeKey,
  parseDocName,
  parseOptionKey,
  schemaDocName,
} from './document-layout'
export type { CheckResult, ErrorCode } from './errors'
export { CardfileError, ErrorCodes, OK, isErrorCode, refuse } from './errors'
export type { FieldChange, PolicyContext, Refusal } from './change-policy'
export { NON_JSON_VALUE } from './change-policy'
