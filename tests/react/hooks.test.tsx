// @vitest-environment jsdom
import { StrictMode } from 'react'
import type { ReactNode } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { CardfileError } from '@cardfile/core'
import type { CardfileClient } from '@cardfile/core'
import {
  CardfileProvider,
  useAttributeAdmin,
  useAttributes,
  useContact,
  usePresence,
  useSyncStatus,
  useUndo,
  useVip,
} from '@cardfile/react'
import type {
  AttributeAdmin,
  ContactResult,
  ContactView,
  UndoResult,
  VipResult,
} from '@cardfile/react'
import { connectClient, openSockets, startServer } from '../client/harness'

afterEach(() => cleanup())

const withClient = (client: CardfileClient, children: ReactNode) => (
  <CardfileProvider client={client}>{children}</CardfileProvider>
)

/** An admin client with a Plan dropdown (free, pro) and a Team text attribute. */
async function seed(url: string) {
  const admin = await connectClient(url, 'ana', 'admin')
  const schema = admin.schema()
  await schema.whenSynced()
  const plan = schema.schema.createAttribute({
    id: 'plan',
    label: 'Plan',
    type: 'dropdown',
    options: [
      { id: 'free', label: 'Free' },
      { id: 'pro', label: 'Pro' },
      { id: 'max', label: 'Max' },
    ],
  }).id
  const team = schema.schema.createAttribute({ id: 'team', label: 'Team', type: 'text' }).id
  await expect.poll(() => schema.status().saved).toBe(true)
  return { admin, schema, plan, team }
}

function Labels() {
  const { attributes, source } = useAttributes({ select: (defs) => defs.map((d) => d.label) })
  return <p data-testid="labels">{source === 'none' ? 'loading' : attributes.join(',')}</p>
}

function PanelValues({ id }: { id: string }) {
  const { data } = useContact(id)
  return (
    <ul>
      {data.fields.map((f) => (
        <li key={f.id} data-testid={`value-${f.id}`}>
          {f.display ?? ''}
        </li>
      ))}
    </ul>
  )
}

let captured: ContactResult<ContactView> | null = null
function CaptureContact({ id }: { id: string }) {
  captured = useContact(id)
  return <p data-testid="error">{captured.error?.code ?? ''}</p>
}

describe('@cardfile/react hooks against a real server', () => {
  it("shows an admin's live reorder in another client's attribute list", async () => {
    const { url } = await startServer()
    const { schema, plan, team } = await seed(url)
    const agent = await connectClient(url, 'bo', 'agent')
    render(withClient(agent, <Labels />))
    await waitFor(() => expect(screen.getByTestId('labels').textContent).toMatch(/Plan,Team$/))
    schema.schema.moveAttribute(team, { before: plan })
    await waitFor(() => expect(screen.getByTestId('labels').textContent).toMatch(/Team,Plan$/))
    schema.schema.setVisible(plan, false)
    await waitFor(() => expect(screen.getByTestId('labels').textContent).not.toMatch(/Plan/))
  })

  it('carries value edits both ways between two clients', async () => {
    const { url } = await startServer()
    const { admin } = await seed(url)
    const agent = await connectClient(url, 'bo', 'agent')
    render(
      <>
        <div data-testid="agent">{withClient(agent, <CaptureContact id="c1" />)}</div>
        <div data-testid="admin">{withClient(admin, <PanelValues id="c1" />)}</div>
      </>,
    )
    await waitFor(() => expect(captured?.source).toBe('server'))
    act(() => captured?.setValue('plan', 'pro'))
    await waitFor(() => expect(screen.getByTestId('value-plan').textContent).toBe('Pro'))
    admin.contact('c1').setValue('team', 'Billing')
    await waitFor(() =>
      expect(captured?.data.fields.find((f) => f.id === 'team')?.display).toBe('Billing'),
    )
    const field = captured?.data.fields.find((f) => f.id === 'team')
    expect(field?.provenance).toMatchObject({ userId: 'ana', role: 'admin' })
    expect(field?.canEdit).toBe(true)
  })

  it('hides the VIP control when an admin switches VIP off', async () => {
    const { url } = await startServer()
    await seed(url)
    const admin = await connectClient(url, 'ana', 'admin')
    const agent = await connectClient(url, 'bo', 'agent')
    function VipButton() {
      const [isVip, setVip, { enabled, canEdit }] = useVip('c1')
      if (!enabled) return null
      return (
        <button disabled={!canEdit} onClick={() => setVip(!isVip)}>
          {isVip ? 'VIP' : 'not VIP'}
        </button>
      )
    }
    let adminApi: AttributeAdmin | null = null
    function Settings() {
      adminApi = useAttributeAdmin()
      return null
    }
    render(
      <>
        {withClient(agent, <VipButton />)}
        {withClient(admin, <Settings />)}
      </>,
    )
    const button = await screen.findByRole('button')
    await waitFor(() => expect((button as HTMLButtonElement).disabled).toBe(false))
    act(() => button.click())
    await waitFor(() => expect(screen.getByRole('button').textContent).toBe('VIP'))
    await waitFor(() => expect(adminApi?.source).toBe('server'))
    act(() => adminApi?.updateSettings({ vipEnabled: false }))
    await waitFor(() => expect(screen.queryByRole('button')).toBeNull())
  })

  it("lists VIP among the attributes in the admin's order, and says nobody is VIP while it is off", async () => {
    const { url } = await startServer()
    await seed(url)
    const admin = await connectClient(url, 'ana', 'admin')
    const agent = await connectClient(url, 'bo', 'agent')
    let vip = null as VipResult | null
    let adminApi = null as AttributeAdmin | null
    function Agent() {
      captured = useContact('c1')
      vip = useVip('c1')
      return <Labels />
    }
    function Settings() {
      adminApi = useAttributeAdmin()
      return null
    }
    render(
      <>
        {withClient(agent, <Agent />)}
        {withClient(admin, <Settings />)}
      </>,
    )
    const labels = () => screen.getByTestId('labels').textContent?.split(',') ?? []
    await waitFor(() => expect(labels().slice(-3)).toEqual(['VIP', 'Plan', 'Team']))
    await waitFor(() => expect(vip?.[2].canEdit).toBe(true))
    act(() => vip?.[1](true))
    await waitFor(() =>
      expect(captured?.data.fields.find((f) => f.id === 'vip')).toMatchObject({
        kind: 'standard',
        type: 'flag',
        value: 'true',
        display: 'VIP',
        canEdit: true,
      }),
    )

    await waitFor(() => expect(adminApi?.source).toBe('server'))
    act(() => adminApi?.moveAttribute('vip', { after: 'team' }))
    await waitFor(() => expect(labels().slice(-3)).toEqual(['Plan', 'Team', 'VIP']))

    act(() => adminApi?.updateSettings({ vipEnabled: false }))
    await waitFor(() => expect(labels()).not.toContain('VIP'))
    await waitFor(() => expect(vip?.[0]).toBe(false))
    expect(vip?.[2].enabled).toBe(false)
    expect(captured?.data.vip).toBe(false)

    act(() => adminApi?.updateSettings({ vipEnabled: true }))
    await waitFor(() => expect(vip?.[0]).toBe(true))
    expect(captured?.data.vip).toBe(true)
    expect(labels().slice(-1)).toEqual(['VIP'])
  })

  it('surfaces the code of an edit refused because an option was retired concurrently', async () => {
    const { url } = await startServer()
    const { schema } = await seed(url)
    const agent = await connectClient(url, 'bo', 'agent')
    render(withClient(agent, <CaptureContact id="c1" />))
    await waitFor(() => expect(captured?.source).toBe('server'))
    act(() => agent.disconnect())
    act(() => captured?.setValue('plan', 'pro'))
    schema.schema.retireOption('plan', 'pro')
    await expect.poll(() => schema.status().saved).toBe(true)
    act(() => agent.connect())
    await waitFor(() => expect(screen.getByTestId('error').textContent).toBe('retired-option'))
    expect(captured?.error?.field).toContain('plan')
    // the server's compensation removes the refused value on the agent's replica too
    await waitFor(() =>
      expect(captured?.data.fields.find((f) => f.id === 'plan')?.value ?? null).toBeNull(),
    )
  })

  it('throws a CardfileError for an invalid value, reports it and writes nothing', async () => {
    const { url } = await startServer()
    await seed(url)
    const agent = await connectClient(url, 'bo', 'agent')
    render(withClient(agent, <CaptureContact id="c1" />))
    await waitFor(() => expect(captured?.source).toBe('server'))
    act(() => {
      expect(() => captured?.setValue('plan', 'gold')).toThrowError(
        expect.objectContaining({ name: 'CardfileError', code: 'not-an-option' }),
      )
    })
    await waitFor(() => expect(screen.getByTestId('error').textContent).toBe('not-an-option'))
    expect(captured?.data.fields.find((f) => f.id === 'plan')?.value).toBeNull()
  })

  it('throws the same CardfileError from every mutator of every hook when refused', async () => {
    const { url } = await startServer()
    await seed(url)
    // a bot may edit custom values but not VIP, nor the schema
    const agent = await connectClient(url, 'robo', 'bot')
    let vip: VipResult | null = null
    let admin: AttributeAdmin | null = null
    function All() {
      captured = useContact('c1')
      vip = useVip('c1')
      admin = useAttributeAdmin()
      return null
    }
    render(withClient(agent, <All />))
    await waitFor(() => expect(captured?.source).toBe('server'))
    const refused = (code: string) =>
      expect.objectContaining({ name: 'CardfileError', code }) as unknown as Error
    act(() => {
      expect(() => captured?.setValue('missing', 'x')).toThrowError(refused('unknown-attribute'))
      expect(() => captured?.clearValue('missing')).toThrowError(refused('unknown-attribute'))
      expect(() => captured?.setVip(true)).toThrowError(refused('forbidden'))
      expect(() => vip?.[1](true)).toThrowError(CardfileError)
      expect(() => admin?.reorder(['plan'])).toThrowError(refused('forbidden'))
    })
    const handle = agent.contact('c1')
    expect(() => handle.setValue('plan', 'gold')).toThrowError(refused('not-an-option'))
    handle.release()
  })

  it('leaves no open sockets after a StrictMode mount and unmount', async () => {
    const { url, server } = await startServer()
    await seed(url)
    const agent = await connectClient(url, 'bo', 'agent')
    const before = server.connectionCount()
    function Panel() {
      useContact('c1')
      useVip('c1')
      usePresence('c1')
      useUndo('c1')
      const status = useSyncStatus('c1')
      useAttributes()
      return <p data-testid="status">{status.status}</p>
    }
    const view = render(withClient(agent, <StrictMode>{<Panel />}</StrictMode>))
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('synced'))
    // one replica per document, however many hooks and StrictMode's double effects
    expect(agent.openDocuments().sort()).toEqual(['demo/contact/c1', 'demo/schema'])
    // and one socket for both
    expect(server.connectionCount() - before).toBe(1)
    view.unmount()
    await expect.poll(() => agent.openDocuments()).toEqual([])
    await expect.poll(() => server.connectionCount()).toBe(before)
    // the seeding admin keeps its schema socket; the agent has none left
    await expect.poll(() => openSockets()).toBe(before)
  })

  it('re-renders a row only when the attribute it shows changes', async () => {
    const { url } = await startServer()
    const { admin, plan, team } = await seed(url)
    const agent = await connectClient(url, 'bo', 'agent')
    const renders: Record<string, number> = {}
    function Row({ attribute }: { attribute: string }) {
      const { data } = useContact('c1', {
        select: (c) => c.fields.find((f) => f.id === attribute)?.display ?? null,
      })
      renders[attribute] = (renders[attribute] ?? 0) + 1
      return <p data-testid={`row-${attribute}`}>{data ?? ''}</p>
    }
    render(
      withClient(
        agent,
        <>
          <Row attribute={plan} />
          <Row attribute={team} />
        </>,
      ),
    )
    const other = admin.contact('c1')
    await other.whenSynced()
    other.setValue(team, 'start')
    await waitFor(() => expect(screen.getByTestId(`row-${team}`).textContent).toBe('start'))
    const planRenders = renders[plan] ?? 0
    const teamRenders = renders[team] ?? 0
    for (let i = 0; i < 20; i++) other.setValue(team, `edit ${i}`)
    await waitFor(() => expect(screen.getByTestId(`row-${team}`).textContent).toBe('edit 19'))
    expect(renders[team]).toBeGreaterThan(teamRenders)
    expect(renders[plan]).toBe(planRenders)
    other.setValue(plan, 'pro')
    await waitFor(() => expect(screen.getByTestId(`row-${plan}`).textContent).toBe('Pro'))
    expect(renders[plan]).toBe(planRenders + 1)
  })

  it('reports pending changes as saving until the server acknowledges them', async () => {
    const { url } = await startServer()
    await seed(url)
    const agent = await connectClient(url, 'bo', 'agent')
    const seen: string[] = []
    function SaveBadge() {
      const { saved, pending, status } = useSyncStatus('c1')
      const overall = useSyncStatus()
      const { setValue } = useContact('c1')
      seen.push(saved ? 'saved' : `saving ${pending}`)
      return (
        <button
          data-testid="badge"
          data-overall={overall.saved}
          onClick={() => setValue('team', 'x')}
        >
          {status}:{saved ? 'saved' : 'saving'}
        </button>
      )
    }
    render(withClient(agent, <SaveBadge />))
    await waitFor(() => expect(screen.getByTestId('badge').textContent).toBe('synced:saved'))
    agent.disconnect()
    act(() => screen.getByTestId('badge').click())
    await waitFor(() => expect(screen.getByTestId('badge').textContent).toBe('offline:saving'))
    expect(screen.getByTestId('badge').dataset.overall).toBe('false')
    act(() => agent.connect())
    await waitFor(() => expect(screen.getByTestId('badge').textContent).toBe('synced:saved'))
    expect(seen).toContain('saving 1')
  })

  it('gives non-admins no admin powers: canAdmin is false and functions throw forbidden', async () => {
    const { url } = await startServer()
    await seed(url)
    const agent = await connectClient(url, 'bo', 'agent')
    const box: { api: AttributeAdmin | null } = { api: null }
    function Settings() {
      box.api = useAttributeAdmin()
      return null
    }
    render(withClient(agent, <Settings />))
    await waitFor(() => expect(box.api?.source).toBe('server'))
    expect(box.api?.canAdmin).toBe(false)
    expect(() => box.api?.createAttribute({ label: 'X', type: 'text' })).toThrowError(
      expect.objectContaining({ code: 'forbidden' }),
    )
    expect(() => box.api?.reorder(['plan'])).toThrowError(
      expect.objectContaining({ code: 'forbidden' }),
    )
  })

  it('lets an admin mark attributes CRM-managed only on a plan with the CRM', async () => {
    const { url, server } = await startServer()
    await seed(url)
    const admin = await connectClient(url, 'ana', 'admin')
    const box: { api: AttributeAdmin | null } = { api: null }
    function Settings() {
      box.api = useAttributeAdmin()
      return null
    }
    render(withClient(admin, <Settings />))
    await waitFor(() => expect(box.api?.source).toBe('server'))
    expect(box.api?.canMarkCrmManaged).toBe(true)
    await server.host.transact('demo/schema', { userId: 'op', role: 'system' }, (doc) =>
      doc.getMap('settings').set('plan', 'business'),
    )
    await waitFor(() => expect(box.api?.canMarkCrmManaged).toBe(false))
    expect(() => box.api?.updateAttribute('team', { crmManaged: true })).toThrowError(
      expect.objectContaining({ code: 'plan-lacks-feature' }),
    )
    expect(() =>
      box.api?.createAttribute({ label: 'Tier', type: 'text', crmManaged: true }),
    ).toThrowError(expect.objectContaining({ code: 'plan-lacks-feature' }))
    // Nothing was written; other edits go on.
    expect(box.api?.attributes.find((a) => a.id === 'team')?.crmManaged).toBe(false)
    expect(box.api?.attributes.some((a) => a.label === 'Tier')).toBe(false)
    act(() => box.api?.updateAttribute('team', { label: 'Squad' }))
    await waitFor(() =>
      expect(box.api?.attributes.find((a) => a.id === 'team')?.label).toBe('Squad'),
    )
  })

  it('keeps setters stable across renders and undoes through useUndo', async () => {
    const { url } = await startServer()
    await seed(url)
    const agent = await connectClient(url, 'bo', 'agent')
    const setters = new Set<unknown>()
    const box: { undo: UndoResult | null } = { undo: null }
    function Editor() {
      const { setValue, data, source } = useContact('c1')
      box.undo = useUndo('c1')
      setters.add(setValue)
      return (
        <button data-testid="edit" data-source={source} onClick={() => setValue('team', 'Sales')}>
          {data.fields.find((f) => f.id === 'team')?.display ?? 'empty'}
        </button>
      )
    }
    render(withClient(agent, <Editor />))
    await waitFor(() => expect(screen.getByTestId('edit').dataset.source).toBe('server'))
    act(() => screen.getByTestId('edit').click())
    await waitFor(() => expect(screen.getByTestId('edit').textContent).toBe('Sales'))
    expect(box.undo?.canUndo).toBe(true)
    act(() => {
      box.undo?.undo()
    })
    await waitFor(() => expect(screen.getByTestId('edit').textContent).toBe('empty'))
    expect(box.undo?.canRedo).toBe(true)
    expect(setters.size).toBe(1)
  })

  it('merges offline edits made through hooks after the page is rebuilt from IndexedDB', async () => {
    const { url } = await startServer()
    const { admin } = await seed(url)
    const first = await connectClient(url, 'bo', 'agent', { device: 'tablet' })
    const view = render(withClient(first, <CaptureContact id="c1" />))
    await waitFor(() => expect(captured?.source).toBe('server'))
    act(() => first.disconnect())
    act(() => {
      captured?.setValue('team', 'Offline team')
      captured?.setVip(true)
    })
    // meanwhile the admin edits another field online
    const other = admin.contact('c1')
    await other.whenSynced()
    other.setValue('plan', 'max')
    await expect.poll(() => other.status().saved).toBe(true)
    // the tab closes before anything reached the server
    view.unmount()
    await first.destroy()

    const second = await connectClient(url, 'bo', 'agent', { device: 'tablet', connect: false })
    render(withClient(second, <PanelValues id="c1" />))
    render(withClient(second, <CaptureContact id="c1" />))
    await waitFor(() => expect(captured?.source).toBe('local'))
    expect(screen.getByTestId('value-team').textContent).toBe('Offline team')
    expect(captured?.found).toBe(true)
    act(() => second.connect())
    await waitFor(() => expect(captured?.source).toBe('server'))
    await waitFor(() => expect(screen.getByTestId('value-plan').textContent).toBe('Max'))
    expect(screen.getByTestId('value-team').textContent).toBe('Offline team')
    await expect.poll(() => other.read().custom.team?.value).toBe('Offline team')
    await expect.poll(() => other.read().vip?.value).toBe(true)
  })

  it('shows a cache from an old database as a cache-discarded error and the new values', async () => {
    const old = await startServer()
    const { admin } = await seed(old.url)
    const before = admin.contact('c1')
    await before.whenSynced()
    before.setValue('team', 'Old team')
    await expect.poll(() => before.status().saved).toBe(true)
    const first = await connectClient(old.url, 'bo', 'agent', { device: 'phone' })
    const view = render(withClient(first, <PanelValues id="c1" />))
    await waitFor(() => expect(screen.getByTestId('value-team').textContent).toBe('Old team'))
    view.unmount()
    await first.destroy()

    // The same device opens the app against a database created anew.
    const fresh = await startServer()
    await seed(fresh.url)
    const second = await connectClient(fresh.url, 'bo', 'agent', { device: 'phone' })
    render(withClient(second, <PanelValues id="c1" />))
    render(withClient(second, <CaptureContact id="c1" />))
    await waitFor(() => expect(screen.getByTestId('error').textContent).toBe('cache-discarded'))
    await waitFor(() => expect(captured?.source).toBe('server'))
    expect(screen.getByTestId('value-team').textContent).toBe('')
  })

  it('follows a new channel prop at once, showing only the platform attributes of that channel', async () => {
    const { url } = await startServer()
    await seed(url)
    const agent = await connectClient(url, 'bo', 'agent')
    function Ids({ channel }: { channel: 'whatsapp' | 'x' }) {
      const { attributes } = useAttributes({ channel, select: (defs) => defs.map((d) => d.id) })
      return <p data-testid="ids">{attributes.join(',')}</p>
    }
    const view = render(withClient(agent, <Ids channel="whatsapp" />))
    await waitFor(() => expect(screen.getByTestId('ids').textContent).toContain('phone_number'))
    expect(screen.getByTestId('ids').textContent).not.toContain('x_handle')
    expect(screen.getByTestId('ids').textContent).toContain('plan')
    view.rerender(withClient(agent, <Ids channel="x" />))
    expect(screen.getByTestId('ids').textContent).toContain('x_handle')
    expect(screen.getByTestId('ids').textContent).not.toContain('phone_number')
  })
})
