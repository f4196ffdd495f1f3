import { describe, expectTypeOf, it } from 'vitest'
import type {
  AttributeChange,
  AttributeDefinition,
  CardfileError,
  ChannelId,
  ClientStatus,
  ConnectionEvent,
  ConnectionStatus,
  DocStatus,
  IndexedContact,
  LoadSource,
  Presence,
} from '@cardfile/core'
import {
  useAttributeAdmin,
  useAttributeHistory,
  useDeleteContact,
  useAttributes,
  useAttributesSuspense,
  useConnectionStatus,
  useContact,
  useContactSuspense,
  useLostConnectionListener,
  useContactGroup,
  useContactHistory,
  useContactLinks,
  useCrmDeliveries,
  useCrmSettings,
  useCrmStatus,
  useImport,
  usePresence,
  useRelink,
  useSyncStatus,
  useUndo,
  useVip,
} from '@cardfile/react'
import type {
  ContactField,
  ContactLinkRecord,
  ContactView,
  CrmConnection,
  CrmLookupOutcome,
} from '@cardfile/react'

describe('hook types', () => {
  it('useAttributes returns definitions, or what the selector returns', () => {
    expectTypeOf(useAttributes).toBeCallableWith()
    expectTypeOf(useAttributes({ channel: 'whatsapp' }).attributes).toEqualTypeOf<
      readonly AttributeDefinition[]
    >()
    const ids = useAttributes({ select: (defs) => defs.map((d) => d.id) })
    expectTypeOf(ids.attributes).toEqualTypeOf<string[]>()
    expectTypeOf(ids.source).toEqualTypeOf<LoadSource>()
    // @ts-expect-error not a channel
    useAttributes({ channel: 'telegram' })
  })

  it('useContact infers the selection and keeps typed setters', () => {
    const full = useContact('c1')
    expectTypeOf(full.data).toEqualTypeOf<ContactView>()
    expectTypeOf(full.data.fields).toEqualTypeOf<readonly ContactField[]>()
    expectTypeOf(full.found).toEqualTypeOf<boolean | null>()
    expectTypeOf(full.error).toEqualTypeOf<CardfileError | null>()
    expectTypeOf(full.setValue).parameters.toEqualTypeOf<[attributeId: string, value: string]>()
    expectTypeOf(full.setValue).returns.toEqualTypeOf<void>()
    const plan = useContact('c1', { select: (c) => c.fields.find((f) => f.id === 'plan') })
    expectTypeOf(plan.data).toEqualTypeOf<ContactField | undefined>()
    const channel = 'whatsapp' as ChannelId
    const onChannel = useContact('c1', { channel, select: (c) => c.fields.map((f) => f.id) })
    expectTypeOf(onChannel.data).toEqualTypeOf<string[]>()
    const byChannel = useAttributes({ channel, select: (defs) => defs.length })
    expectTypeOf(byChannel.attributes).toEqualTypeOf<number>()
    const vip = useContact('c1', { select: (c) => c.vip })
    expectTypeOf(vip.data).toEqualTypeOf<boolean>()
    // @ts-expect-error values are strings (or cleared with clearValue)
    full.setValue('plan', 3)
  })

  it('useVip is a typed tuple', () => {
    const [isVip, setVip, info] = useVip('c1')
    expectTypeOf(isVip).toEqualTypeOf<boolean>()
    expectTypeOf(setVip).toEqualTypeOf<(vip: boolean) => void>()
    expectTypeOf(info.enabled).toEqualTypeOf<boolean>()
    expectTypeOf(info.canEdit).toEqualTypeOf<boolean>()
  })

  it('useSyncStatus is overloaded for one contact or the whole client', () => {
    expectTypeOf(useSyncStatus()).toEqualTypeOf<ClientStatus>()
    expectTypeOf(useSyncStatus('c1')).toEqualTypeOf<DocStatus>()
  })

  it('useAttributeAdmin exposes typed admin functions', () => {
    const admin = useAttributeAdmin()
    expectTypeOf(admin.canAdmin).toEqualTypeOf<boolean>()
    expectTypeOf(admin.createAttribute).returns.toEqualTypeOf<AttributeDefinition>()
    expectTypeOf(admin.reorder).parameters.toEqualTypeOf<[ids: readonly string[]]>()
    // @ts-expect-error the plan is set on the server, not by admins
    admin.updateSettings({ plan: 'enterprise' })
    admin.updateSettings({ vipEnabled: false, matchingAttribute: 'email' })
  })

  it('usePresence and useUndo', () => {
    expectTypeOf(usePresence('c1').others).toEqualTypeOf<readonly Presence[]>()
    expectTypeOf(usePresence('c1').setEditing).parameters.toEqualTypeOf<[field: string | null]>()
    expectTypeOf(useUndo('c1').undo).toEqualTypeOf<() => boolean>()
  })

  it('useCrmStatus looks up to an outcome or the error, and links resolve their records', () => {
    const crm = useCrmStatus('c1')
    expectTypeOf(crm.connection).toEqualTypeOf<CrmConnection>()
    expectTypeOf(crm.lookup).returns.resolves.toEqualTypeOf<CrmLookupOutcome>()
    const links = useContactLinks('c1')
    expectTypeOf(links.link).returns.resolves.toEqualTypeOf<ContactLinkRecord>()
    expectTypeOf(links.revert).returns.resolves.toEqualTypeOf<void>()
    expectTypeOf(useContactHistory('c1').items[0]?.hint).toEqualTypeOf<string | null | undefined>()
  })

  it('useAttributeHistory lists typed changes and useDeleteContact takes the linked option', () => {
    const history = useAttributeHistory('c1', 'plan', { pageSize: 20 })
    expectTypeOf(history.items).toEqualTypeOf<readonly AttributeChange[]>()
    expectTypeOf(history.items[0]?.value).toEqualTypeOf<string | boolean | null | undefined>()
    expectTypeOf(useAttributeHistory('c1', null).loadMore).returns.toEqualTypeOf<void>()
    // @ts-expect-error an attribute id or null
    useAttributeHistory('c1', 42)
    const { deleteContact } = useDeleteContact()
    expectTypeOf(deleteContact('c1', { linked: true })).resolves.toHaveProperty('linked')
    // @ts-expect-error linked is a boolean
    void deleteContact('c1', { linked: 'yes' })
  })

  it('useContactSuspense infers the selection and knows whether the contact exists', () => {
    const full = useContactSuspense('c1')
    expectTypeOf(full.data).toEqualTypeOf<ContactView>()
    expectTypeOf(full.found).toEqualTypeOf<boolean>()
    expectTypeOf(full.setValue).returns.toEqualTypeOf<void>()
    const ids = useContactSuspense('c1', { select: (c) => c.fields.map((f) => f.id) })
    expectTypeOf(ids.data).toEqualTypeOf<string[]>()
    // @ts-expect-error not a channel
    useContactSuspense('c1', { channel: 'telegram' })
  })

  it('useAttributesSuspense infers the selection', () => {
    expectTypeOf(useAttributesSuspense().attributes).toEqualTypeOf<readonly AttributeDefinition[]>()
    expectTypeOf(
      useAttributesSuspense({ select: (defs) => defs.length }).attributes,
    ).toEqualTypeOf<number>()
  })

  it('the list hooks take suspense: true and keep their result type', () => {
    const group = useContactGroup('vip', { suspense: true })
    expectTypeOf(group.items).toEqualTypeOf<readonly IndexedContact[]>()
    // @ts-expect-error suspense is a boolean
    useContactHistory('c1', { suspense: 'yes' })
  })

  it('useConnectionStatus is the core status and the listener takes its events', () => {
    expectTypeOf(useConnectionStatus()).toEqualTypeOf<ConnectionStatus>()
    expectTypeOf<ConnectionStatus>().toEqualTypeOf<
      'idle' | 'connecting' | 'syncing' | 'synced' | 'reconnecting' | 'needs-token' | 'offline'
    >()
    expectTypeOf(useLostConnectionListener)
      .parameter(0)
      .toEqualTypeOf<(event: ConnectionEvent) => void>()
    expectTypeOf<ConnectionEvent>().toEqualTypeOf<'lost' | 'restored' | 'needs-token'>()
  })

  it('the CRM admin hooks resolve what they did and take only known states', () => {
    const crm = useCrmSettings()
    expectTypeOf(crm.test).returns.resolves.toHaveProperty('outcome')
    expectTypeOf(crm.rotateSecret)
      .returns.resolves.toHaveProperty('secret')
      .toEqualTypeOf<string | null>()
    // @ts-expect-error the secret is not a URL field
    void crm.save({ secret: 'ab' })
    expectTypeOf(useCrmDeliveries().items[0]!.state).toEqualTypeOf<
      'pending' | 'delivered' | 'dead'
    >()
    // @ts-expect-error not a delivery state
    useCrmDeliveries({ state: 'failed' })
    expectTypeOf(useRelink().start).returns.resolves.toHaveProperty('processed').toBeNumber()
  })

  it('useImport takes a file or text and reports typed rows and states', () => {
    const imports = useImport({ pollMs: 100 })
    expectTypeOf(imports.start).parameter(0).toEqualTypeOf<Blob | string>()
    expectTypeOf(imports.start).returns.resolves.toHaveProperty('refusals')
    expectTypeOf(imports.job?.state).toEqualTypeOf<
      'queued' | 'running' | 'done' | 'failed' | 'cancelled' | undefined
    >()
    expectTypeOf(imports.progress).toBeNumber()
    // @ts-expect-error a file, not a list of rows
    void imports.start([['x', '1']])
  })
})
