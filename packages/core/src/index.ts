/**
 * @cardfile/core: the Cardfile document model, validation, permissions and sync client.
 * Exports are written out by hand: anything not listed here is internal.
 */
export type {
  Actor,
  AttachmentRef,
  AttributeDefinition,
  AttributeKind,
  AttributeRules,
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
export { PLANS, ROLES, VIP_ATTRIBUTE_ID } from './types'
export type { AttributeChange, IndexedContact, IndexedConversation } from './index-types'
export type {
  AttributeProp,
  CrmFlagKey,
  DocKind,
  DocName,
  OptionProp,
  ParsedAttributeKey,
  RootMapName,
  SettingKey,
} from './document-layout'
export {
  ATTRIBUTE_PROPS,
  REQUIRED_ATTRIBUTE_PROPS,
  CONVERSATION_META_KEYS,
  CRM_FLAG_KEYS,
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

// Channel catalogue
export type { ChannelInfo, PlatformAttributeInfo, PlatformAttributeSpec } from './channels'
export {
  CHANNELS,
  CHANNEL_IDS,
  PLATFORM_ATTRIBUTES,
  isChannelId,
  platformAttributeIdsFor,
} from './channels'

// Plans
export type { PlanCapabilities } from './plans'
export { PLAN_CAPABILITIES, capabilities } from './plans'
export { vipActive } from './vip'

// Ordering
export type { MoveTarget, OrderPlan, Ordered } from './attribute-order'
export {
  compareByOrder,
  isOrderKey,
  keyBetween,
  keysForReorder,
  planMove,
  planReorder,
  sortByOrder,
} from './attribute-order'

// Validation
export {
  ALIAS_PATTERN,
  DEFAULT_MAX_LENGTH,
  MAX_LABEL_LENGTH,
  MAX_MAX_LENGTH,
  missingRequired,
  validateDefinition,
  validateDefinitions,
  validateSetting,
  validateValue,
} from './validation'

// Attribute types and rules
export type { FormatDefinition } from './value-types'
export {
  ATTRIBUTE_TYPES,
  MAX_DECIMALS,
  MAX_NUMBER_MAGNITUDE,
  compareValues,
  formatValue,
  hasOptions,
  isAttributeType,
  isRangeType,
  isTextType,
  normaliseInput,
  selectedIds,
} from './value-types'
export {
  DEFAULT_RULES,
  MAX_HELP_LENGTH,
  MAX_PATTERN_INPUT,
  MAX_PATTERN_LENGTH,
  checkPattern,
  checkRules,
  checkRulesShape,
  readRules,
  rulesToJson,
} from './attribute-rules'
export type { ConversionReport, ConversionFailure } from './type-conversion'
export { convertValue, convertedDefinition } from './type-conversion'
export { newId } from './ids'

// Permissions and the server's change policy
export type { ConversationMetaKey, FieldRef, PermissionContext, ProfileKey } from './permissions'
export { canEdit, checkCrmManagedMark, checkMessageSender, checkWrite } from './permissions'
export { MAX_CLOCK_SKEW_MS, authorizeChanges, fieldRefOf } from './authorize-changes'

// Typed documents
export type {
  AttributePatch,
  CreateAttributeInput,
  OptionInput,
  SchemaDocOptions,
  SchemaView,
  SeedOptions,
} from './schema-doc'
export { SchemaDoc, ensureVipDefinition, seedWorkspace } from './schema-doc'
export { DEFAULT_SETTINGS } from './schema-read'
export type { ContactDocOptions, ValueLabel } from './contact-doc'
export { ContactDoc, valueLabel } from './contact-doc'
export type { ConversationDocOptions } from './conversation-doc'
export { ConversationDoc } from './conversation-doc'

// client
export type {
  CardfileClient,
  CardfileClientOptions,
  ConnectionListener,
  ErrorListener,
  SharedRequest,
} from './client/client'
export { createCardfileClient } from './client/client'
export type { WebSocketConstructor } from './client/document-replica'
export type { ContactHandle, ConversationHandle, DocHandle, SchemaHandle } from './client/handles'
export type { Presence } from './client/presence'
export { isLoaded, loadFailure } from './client/load'
export type {
  ClientInspection,
  DocumentInspection,
  ListInspection,
  RecentError,
} from './client/inspection'
export type { TransportMode } from './client/mux-transport'
export type {
  ClientStatus,
  ConnectionEvent,
  ConnectionStatus,
  DocStatus,
  LoadSource,
  SyncState,
} from './client/status'
export type { TokenClaims } from './client/token'
export { decodeTokenClaims } from './client/token'
export type {
  CloseCode,
  CloseCodeName,
  HelloNotice,
  ListInvalidation,
  ListStateNotice,
  ListSubscribeRequest,
  MessageType,
  PurgeNotice,
  RefusalNotice,
} from './protocol'
export {
  CloseCodes,
  MessageTypes,
  ServerFeatures,
  encodeAwarenessMessage,
  encodeDurableAck,
  encodeHello,
  encodeListInvalidate,
  encodeListState,
  encodeListSubscribe,
  encodeListUnsubscribe,
  encodePermissionDenied,
  encodePurge,
  encodeRefusal,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  readDurableAck,
  readHello,
  readHelloNotice,
  readListInvalidate,
  readListInvalidation,
  readListState,
  readListSubscribe,
  readListUnsubscribe,
  readPurge,
  readRefusal,
} from './protocol'
export type { ChannelCloseNotice, ChannelOpenRequest, Frame } from './mux'
export {
  MAX_CHANNEL_ID,
  MUX_FEATURE,
  SOCKET_CHANNEL,
  encodeChannelClose,
  encodeChannelOpen,
  encodeFrame,
  muxPath,
  parseMuxPath,
  readChannelClose,
  readChannelOpen,
  readFrame,
} from './mux'
export {
  CARDFILE_SUBPROTOCOL,
  encodeTokenRefresh,
  tokenFromSubprotocols,
  tokenSubprotocols,
} from './client/token-transport'
export type { CrmDeliveryListState, ListQuery, ListQueryKind } from './list-queries'
export {
  LIST_QUERY_ROLES,
  listQueryContact,
  listQueryKey,
  listQueryPath,
  mayReadList,
  parseListQuery,
} from './list-queries'
export type { ListChannel, ListPushState, ListSubscriptionHandlers } from './client/list-channel'
export type { ListState, ListStoreOptions, VisibilitySource } from './client/list-store'
export {
  DEFAULT_LIST_POLL_MS,
  ListStore,
  MAX_LIST_PAGE,
  documentVisibility,
} from './client/list-store'
export type { ApiEndpoint } from './client/http-api'
export { apiFetch, apiJson, httpUrlOf } from './client/http-api'
