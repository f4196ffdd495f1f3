import { DEFAULT_SETTINGS } from '@cardfile/core'
import { describe, expect, it } from 'vitest'
import { defaultRoute } from '../src/routing/priority'
import type { RouteInput } from '../src/routing/priority'

const input = (patch: Partial<RouteInput>): RouteInput => ({
  reason: 'vip-changed',
  workspace: 'acme',
  conversationId: 'v1',
  contactId: 'c1',
  channel: 'sms',
  vip: true,
  settings: { ...DEFAULT_SETTINGS, vipTeam: 'vip-desk', vipPriorityBoost: 3 },
  createdAt: 0,
  now: 0,
  current: { team: null, priority: 0 },
  taken: false,
  ...patch,
})

describe('the default routing of a VIP change', () => {
  it('sends an unanswered conversation of the unassigned queue to the VIP team', () => {
    expect(defaultRoute(input({}))).toEqual({ team: 'vip-desk', priority: 3 })
  })

  it('keeps a VIP conversation that is already in the VIP team there', () => {
    expect(defaultRoute(input({ current: { team: 'vip-desk', priority: 3 } }))).toEqual({
      priority: 3,
    })
  })

  it('sends an unanswered conversation back from the VIP team when the contact is no VIP', () => {
    expect(defaultRoute(input({ vip: false, current: { team: 'vip-desk', priority: 3 } }))).toEqual(
      { team: null, priority: 0 },
    )
  })

  it('never moves a conversation an agent answered or an admin put in another team', () => {
    expect(defaultRoute(input({ taken: true }))).toEqual({ priority: 3 })
    expect(
      defaultRoute(input({ vip: false, taken: true, current: { team: 'vip-desk', priority: 3 } })),
    ).toEqual({ priority: 0 })
    expect(defaultRoute(input({ current: { team: 'billing', priority: 0 } }))).toEqual({
      priority: 3,
    })
    expect(defaultRoute(input({ vip: false, current: { team: 'billing', priority: 3 } }))).toEqual({
      priority: 0,
    })
  })

  it('routes a new VIP conversation to the VIP team, and nothing anywhere without one', () => {
    expect(defaultRoute(input({ reason: 'new' }))).toEqual({ team: 'vip-desk', priority: 3 })
    const none = { ...DEFAULT_SETTINGS, vipTeam: null, vipPriorityBoost: 3 }
    expect(defaultRoute(input({ settings: none }))).toEqual({ priority: 3 })
    expect(defaultRoute(input({ settings: none, vip: false }))).toEqual({ priority: 0 })
  })
})
