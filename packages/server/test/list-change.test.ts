import { describe, expect, it } from 'vitest'
import type { ListQuery } from '@cardfile/core'
import type { JobState } from '../src/jobs/job-store'
import { affectsList, listChangeOfRows, parseListChange } from '../src/lists/list-change'
import type { ListChange } from '../src/lists/list-change'
import type { ConversationIndexRow, ContactIndexRow } from '../src/storage/index-store'

const conversation = (patch: Partial<ConversationIndexRow> = {}): ConversationIndexRow => ({
  kind: 'conversation',
  workspace: 'demo',
  id: 'v1',
  contactId: 'c1',
  channel: 'sms',
  status: 'new',
  team: 'billing',
  priority: 0,
  createdAt: 1,
  updatedAt: 1,
  ...patch,
})

const contact = (patch: Partial<ContactIndexRow> = {}): ContactIndexRow => ({
  kind: 'contact',
  workspace: 'demo',
  id: 'c1',
  channel: 'sms',
  platformUserId: '+1',
  hint: '',
  vip: false,
  matchValue: null,
  values: {},
  createdAt: 1,
  updatedAt: 1,
  ...patch,
})

describe('list changes of a commit', () => {
  it('announce nothing when the row is the same but for its update time', () => {
    expect(listChangeOfRows(conversation(), conversation({ updatedAt: 99 }))).toBeNull()
    expect(listChangeOfRows(undefined, undefined)).toBeNull()
  })

  it('name both queues and both statuses of a conversation that moved', () => {
    const change = listChangeOfRows(
      conversation(),
      conversation({ team: 'vip', status: 'pending' }),
    )
    expect(change).toMatchObject({ teams: ['billing', 'vip'], statuses: ['new', 'pending'] })
    expect(affectsList({ kind: 'queue', team: 'billing' }, change!)).toBe(true)
    expect(affectsList({ kind: 'queue', team: 'vip' }, change!)).toBe(true)
    expect(affectsList({ kind: 'queue', team: null }, change!)).toBe(false)
    expect(affectsList({ kind: 'conversations', status: ['resolved'] }, change!)).toBe(false)
    expect(affectsList({ kind: 'conversations', status: ['pending'] }, change!)).toBe(true)
    expect(affectsList({ kind: 'conversations', contactId: 'c2' }, change!)).toBe(false)
  })

  it('tell VIP lists about a VIP mark and non-VIP lists about the contact leaving them', () => {
    const change = listChangeOfRows(contact(), contact({ vip: true }))!
    expect(affectsList({ kind: 'vip' }, change)).toBe(true)
    expect(affectsList({ kind: 'contacts', vip: false }, change)).toBe(true)
    const edit = listChangeOfRows(contact(), contact({ hint: 'an***' }))!
    expect(affectsList({ kind: 'vip' }, edit)).toBe(false)
    expect(affectsList({ kind: 'contacts', vip: false }, edit)).toBe(true)
  })

  it('read back only changes of the workspace they were published for', () => {
    const json = JSON.stringify({ type: 'links', workspace: 'demo', contactIds: ['a', 'b'] })
    expect(parseListChange('demo', json)).toMatchObject({ type: 'links' })
    expect(parseListChange('other', json)).toBeNull()
    expect(parseListChange('demo', '{"type":"nonsense","workspace":"demo"}')).toBeNull()
    expect(parseListChange('demo', 'not json')).toBeNull()
  })
})

describe('job changes', () => {
  const job = (state?: JobState, from?: JobState): ListChange => ({
    type: 'job',
    workspace: 'demo',
    jobId: 'd1',
    kind: 'crm-delivery',
    ...(state === undefined ? {} : { state }),
    ...(from === undefined ? {} : { from }),
  })

  it('tell the dead letter only of deliveries that died or were sent again', () => {
    const dead: ListQuery = { kind: 'crm-deliveries', state: 'dead' }
    expect(affectsList(dead, job('failed'))).toBe(true)
    expect(affectsList(dead, job('queued', 'failed'))).toBe(true)
    // A new delivery, one taken by a worker, one retried by the outbox, one accepted.
    expect(affectsList(dead, job('queued'))).toBe(false)
    expect(affectsList(dead, job('running'))).toBe(false)
    expect(affectsList(dead, job('done'))).toBe(false)
    // A worker that lost the job does not know its state: the list may have changed.
    expect(affectsList(dead, job())).toBe(true)
  })

  it('tell delivered and pending lists what enters or leaves them, and only of deliveries', () => {
    expect(affectsList({ kind: 'crm-deliveries', state: 'delivered' }, job('done'))).toBe(true)
    expect(affectsList({ kind: 'crm-deliveries', state: 'delivered' }, job('failed'))).toBe(false)
    expect(affectsList({ kind: 'crm-deliveries', state: 'pending' }, job('running'))).toBe(true)
    expect(affectsList({ kind: 'crm-deliveries' }, job('queued'))).toBe(true)
    const relink: ListChange = { type: 'job', workspace: 'demo', jobId: 'r1', kind: 'relink' }
    expect(affectsList({ kind: 'crm-deliveries' }, relink)).toBe(false)
    expect(affectsList({ kind: 'jobs', jobKind: 'relink' }, relink)).toBe(true)
    expect(affectsList({ kind: 'jobs', jobKind: 'contact-import' }, relink)).toBe(false)
    expect(affectsList({ kind: 'job', jobId: 'r1' }, relink)).toBe(true)
    expect(affectsList({ kind: 'job', jobId: 'r2' }, relink)).toBe(false)
  })
})
