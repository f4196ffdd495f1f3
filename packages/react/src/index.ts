/**
 * @cardfile/react: a provider and hooks over the Cardfile client. Exports are written out by
 * hand: anything not listed here is internal. Safe to import on a server (no `window` at import).
 */
export type { CardfileProviderProps } from './context'
export { CardfileProvider, useCardfileClient } from './context'
export type { LoadState } from './load-state'
export type { AttributesResult, UseAttributesOptions } from './use-attributes'
export { useAttributes } from './use-attributes'
export type { ContactField, ContactResult, ContactView, UseContactOptions } from './use-contact'
export { useContact } from './use-contact'
export type { VipInfo, VipResult } from './use-vip'
export { useVip } from './use-vip'
export type { AttributeAdmin } from './use-attribute-admin'
export { useAttributeAdmin } from './use-attribute-admin'
export { useSyncStatus } from './use-sync-status'
export { useConnectionStatus, useLostConnectionListener } from './use-connection'
// The connection shapes are core's: the hooks only bridge them to React.
export type { ConnectionEvent, ConnectionStatus } from '@cardfile/core'
export type { SuspenseContactResult } from './use-suspense'
export { useAttributesSuspense, useContactSuspense } from './use-suspense'
export type { PresenceResult } from './use-presence'
export { usePresence } from './use-presence'
export type { UndoResult } from './use-undo'
export { useUndo } from './use-undo'
export type {
  DeleteContactOptions,
  DeleteContactResult,
  DeletedContactAnswer,
  DeletedContactRecord,
} from './use-delete-contact'
export { useDeleteContact } from './use-delete-contact'
export type { DeletedContactsResult, UseDeletedContactsOptions } from './use-deleted-contacts'
export { useDeletedContacts } from './use-deleted-contacts'
export type {
  ExportJobInfo,
  ExportResult,
  ExportStatus,
  TimeBound,
  UseExportOptions,
} from './use-export'
export { useExport } from './use-export'
export type { ImportJobInfo, ImportResult, ImportRowRefusal, UseImportOptions } from './use-import'
export { useImport } from './use-import'
export type { CrmConnection } from './crm-connection'
export type { CrmLookupOutcome, CrmStatus, CrmStatusResult } from './use-crm-status'
export { useCrmStatus } from './use-crm-status'
export type {
  CrmConnectionTest,
  CrmSettings,
  CrmSettingsChange,
  CrmSettingsPatch,
  CrmSettingsResult,
} from './use-crm-settings'
export { useCrmSettings } from './use-crm-settings'
export type {
  CrmDeliveriesResult,
  CrmDeliveryInfo,
  CrmDeliveryState,
  CrmRetryInfo,
  UseCrmDeliveriesOptions,
} from './use-crm-deliveries'
export { useCrmDeliveries } from './use-crm-deliveries'
export type { RelinkJobInfo, RelinkResult, UseRelinkOptions } from './use-relink'
export { useRelink } from './use-relink'
export type { LiveListOptions, LiveListResult } from './use-live-list'
export type { ContactLinkRecord, LinkedContactsResult } from './use-linked-contacts'
export { useLinkedContacts } from './use-linked-contacts'
export type {
  ContactLinkLogEntry,
  ContactLinksResult,
  UseContactLinksOptions,
} from './use-contact-links'
export { useContactLinks } from './use-contact-links'
export type { ContactHistoryResult, HistoryConversation } from './use-contact-history'
export type { AttributeHistoryResult } from './use-attribute-history'
// The index shapes the list hooks return are core's, shared with the server that answers them.
export type { IndexedContact, IndexedConversation } from '@cardfile/core'
export { useContactHistory } from './use-contact-history'
export { useAttributeHistory } from './use-attribute-history'
export type { ContactGroupName, ContactGroupResult } from './use-contact-group'
export { useContactGroup } from './use-contact-group'
export type { ContactsQuery, ConversationsQuery, InboxListResult } from './use-inbox-lists'
export { useContacts, useConversations, useQueue } from './use-inbox-lists'
export type { ConversationResult } from './use-conversation'
export { useConversation } from './use-conversation'
export type { LiveListExtras } from './use-live-list'
export { useContactSearch } from './use-contact-search'
export type {
  ContactSearch,
  ContactSearchFilter,
  ContactSearchHit,
  ContactSearchOptions,
  ContactSearchResult,
} from './use-contact-search'
