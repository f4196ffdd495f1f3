/**
 * @cardfile/server: the Cardfile websocket + HTTP server, storage and CLI.
 * Exports are written out by hand: anything not listed here is internal.
 */
export type { CardfileServer, CardfileServerOptions, ServerCloseOptions } from './server'
export type { HttpContext, HttpRequestHandler } from './http/http-context'
export { createCardfileServer } from './server'
export type { Coordination } from './coordination/coordination'
export { createLocalCoordination } from './coordination/coordination'
export type { InvalidatingCache } from './coordination/cache'
export type { KeyedLock } from './coordination/keyed-lock'
export type { RateLimiter, RateLimiterOptions } from './coordination/rate-limiter'
export type { AuthOptions, AuthenticateHook, AuthenticatedActor } from './auth/authenticate'
export { createAuthenticator } from './auth/authenticate'
export type { DocumentHost } from './document-host'
export type { MetricsCollector, ServerMetrics, ServerMetricsOptions } from './metrics'
export { Counter, Gauge, Histogram, createServerMetrics } from './metrics'
export type { ProcessMetrics } from './process-metrics'
export { startProcessMetrics } from './process-metrics'
export type { ServerLimits } from './sync/limits'
export { DEFAULT_LIMITS } from './sync/limits'
export type { ServerLogger } from './sync/logger'
export type { PinoLike } from './logging/pino-logger'
export { pinoServerLogger } from './logging/pino-logger'
export { loggableUrl, scrubSecrets } from './logging/redact'
export { REQUEST_ID_HEADER } from './http/request-id'
export { appSecurityHeaders, contentSecurityPolicy } from './http/security-headers'
export type { CommitEvent } from './sync/live-document'
export { contactIndexRow, conversationIndexRow, indexRowFor } from './sync/index-rows'
export type { Backend, StorageStats } from './backend'
export type { DocumentStore } from './storage/document-store'
export type {
  ContactIndexRow,
  ConversationIndexRow,
  IndexRow,
  IndexStore,
  Page,
} from './storage/index-store'
export type { DeletionLog } from './deletion/deletion-log'
export type { ContactSnapshot, ExportStore } from './exports/export-store'
export type { BlobStore } from './blobs/blob-store'
export { createFsBlobStore } from './blobs/fs-blob-store'
export { createMemoryBlobStore } from './blobs/memory-blob-store'
export type { ExportJob, ExportJobStatus, ExportType } from './exports/export-job'
export type { ExportsOptions } from './exports/exports-extension'
export { exportsExtension } from './exports/exports-extension'
export type { CardfileExtensionOptions } from './extensions/cardfile-extensions'
export { cardfileExtensions } from './extensions/cardfile-extensions'
export type { Extension, ExtensionContext, ExtensionParts } from './extensions/extension'
export type { EventConsumer } from './events/event-consumers'
export type {
  DomainEvent,
  DomainEventData,
  DomainEventType,
  EventActor,
  NewDomainEvent,
} from './events/domain-event'
export type { EventStore } from './events/event-store'
export type { Job, JobFilter, JobState, JobStore, NewJob } from './jobs/job-store'
export type { JobContext, JobHandler } from './jobs/job-runner'
export { JobLostError } from './jobs/job-runner'
export type {
  HttpApi,
  HttpApiDeps,
  HttpApiOptions,
  HttpHandler,
  HttpPrincipal,
} from './http/create-http-api'
export { createHttpApi, httpApi } from './http/create-http-api'
export type { InboundLog, InboundResult } from './ingestion/inbound-log'
export type { Ingestion } from './ingestion/ingestion-extension'
export { createIngestion, ingestionExtension } from './ingestion/ingestion-extension'
export { MAX_BODY_BYTES } from './http/read-body'
export { maskHint } from './ingestion/mask-hint'
export type { SignTokenOptions } from './tokens'
export { DEFAULT_TOKEN_LIFETIME, signToken } from './tokens'
export type {
  CrmConfigPatch,
  CrmConfigView,
  CrmConnectionTest,
  CrmContactStatus,
  CrmMetrics,
  CrmOptions,
  CrmService,
  LookupOutcome,
} from './crm/crm-service'
export { CRM_ACTOR } from './crm/crm-service'
export type { CrmAdapter, CrmCall, CrmFailure } from './crm/adapter'
export { CrmCallError } from './crm/adapter'
export { httpCrmAdapter } from './crm/http-adapter'
export type { HttpCrmAdapterOptions } from './crm/http-adapter'
export type {
  AliasValues,
  ChangedBy,
  DeliveryBody,
  LookupRequest,
  LookupResponse,
  LookupTrigger,
  NotificationRequest,
  WriteBackRequest,
} from './crm/contract'
export { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './crm/contract'
export type {
  CrmConfig,
  CrmDelivery,
  CrmLookupRecord,
  CrmStorage,
  DeliveryState,
  PendingWriteBack,
} from './crm/crm-storage'
export type { RetryPolicy } from './crm/delivery-job'
export { DEFAULT_RETRY } from './crm/delivery-job'
export type { CrmExtension } from './crm/crm-extension'
export { crmExtension } from './crm/crm-extension'
export { generateSecret, signBody, verifySignature } from './crm/signing'
export type {
  ContactLinkLogEntry,
  ContactLinkRecord,
  LinkAuthor,
  LinkStorage,
  RelinkChunk,
} from './linking/link-store'
export { normaliseMatchValue, normalisePhone } from './linking/normalise'
export type { LinkGroup } from './linking/link-groups'
export { linkGroup } from './linking/link-groups'
export type { RelinkJob } from './linking/relink-job'
export type { LinkingOptions } from './linking/linking-extension'
export { linkingExtension } from './linking/linking-extension'
export { contactsExtension } from './contacts/contacts-extension'
export type { ValueRefusal, ValuesWritten } from './contacts/contact-values'
export { ValuesRefused } from './contacts/contact-values'
export type { WebhooksOptions } from './webhooks/webhooks-extension'
export { webhooksExtension } from './webhooks/webhooks-extension'
export type { Webhook, WebhookEvent, WebhookStore } from './webhooks/webhook-store'
export { WEBHOOK_EVENTS } from './webhooks/webhook-store'
export type { WebhookBody, WebhookValue } from './webhooks/webhook-payload'
export type { WebhookDelivery, WebhookDeliveryState } from './webhooks/webhook-delivery'
export { EVENT_HEADER } from './webhooks/webhook-delivery'
export type { ImportsOptions } from './imports/imports-extension'
export { importsExtension } from './imports/imports-extension'
export type { ImportReport, RowRefusal } from './imports/import-job'
export type { DeletionOptions } from './deletion/deletion-extension'
export { deletionExtension } from './deletion/deletion-extension'
export { workspacesExtension } from './workspaces/workspaces-extension'
export { valueHistoryExtension } from './history/history-extension'
export { VIP_HISTORY_ATTRIBUTE } from './history/value-history'
export type {
  HistoryValue,
  ValueAuthor,
  ValueChange,
  ValueHistoryEntry,
  ValueHistoryPage,
  ValueHistoryQuery,
  ValueHistoryStore,
} from './history/value-history'
export { readWorkspace, setWorkspacePlan } from './workspaces/workspace-plan'
export type { WorkspaceInfo } from './workspaces/workspace-plan'
export type { RoutingOptions } from './routing/routing-extension'
export { routingExtension } from './routing/routing-extension'
export { searchExtension } from './search/search-extension'
export type {
  AttributeFilter,
  ContactSearchQuery,
  ContactSearchSort,
} from './search/contact-search-query'
export { CONTACT_SEARCH_SORTS } from './search/contact-search-query'
export type {
  RouteDecision,
  RouteHook,
  RouteInput,
  RouteReason,
  ScoringOptions,
} from './routing/priority'
export { defaultRoute, scoreTerms } from './routing/priority'
export type {
  BotHandoffAttribute,
  BotHandoffOptions,
  BotHandoffPayload,
} from './routing/bot-handoff'
export { BotHandoffError } from './routing/bot-handoff'
export type { BotHandoffDelivery, HandoffState } from './routing/bot-handoff-job'
