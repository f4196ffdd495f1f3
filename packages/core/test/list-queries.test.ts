import { describe, expect, it } from 'vitest'
import {
  listQueryContact,
  listQueryKey,
  listQueryPath,
  mayReadList,
  parseListQuery,
} from '../src/index'

describe('list queries', () => {
  it('reads every kind of query and refuses malformed ones', () => {
    expect(parseListQuery({ kind: 'queue', team: 'billing' })).toEqual({
      kind: 'queue',
      team: 'billing',
    })
    expect(parseListQuery({ kind: 'queue' })).toEqual({ kind: 'queue', team: null })
    expect(parseListQuery({ kind: 'linked', contactId: 'c1' })).toEqual({
      kind: 'linked',
      contactId: 'c1',
    })
    expect(parseListQuery({ kind: 'linked' })).toBeNull()
    expect(parseListQuery({ kind: 'linked', contactId: '../c1' })).toBeNull()
    expect(parseListQuery({ kind: 'job', jobId: 42 })).toBeNull()
    expect(parseListQuery({ kind: 'contacts', vip: 'yes' })).toBeNull()
    expect(parseListQuery({ kind: 'conversations', status: ['closed'] })).toBeNull()
    expect(parseListQuery({ kind: 'conversations', status: [] })).toBeNull()
    expect(parseListQuery({ kind: 'queue', team: 'x'.repeat(65) })).toBeNull()
    expect(parseListQuery({ kind: 'drop-tables' })).toBeNull()
    expect(parseListQuery('queue')).toBeNull()
    expect(parseListQuery({ kind: 'jobs', jobKind: 'relink' })).toEqual({
      kind: 'jobs',
      jobKind: 'relink',
    })
    expect(parseListQuery({ kind: 'jobs', jobKind: 'Re link' })).toBeNull()
    expect(parseListQuery({ kind: 'crm-deliveries', state: 'dead' })).toEqual({
      kind: 'crm-deliveries',
      state: 'dead',
    })
    expect(parseListQuery({ kind: 'crm-deliveries' })).toEqual({ kind: 'crm-deliveries' })
    expect(parseListQuery({ kind: 'crm-deliveries', state: 'lost' })).toBeNull()
  })

  it('gives equal queries one key, whatever the order of their fields and statuses', () => {
    const a = parseListQuery({ kind: 'conversations', status: ['pending', 'new'], team: null })!
    const b = parseListQuery({
      team: null,
      status: ['new', 'pending', 'new'],
      kind: 'conversations',
    })!
    expect(listQueryKey(a)).toBe(listQueryKey(b))
    expect(listQueryKey({ kind: 'queue', team: null })).not.toBe(
      listQueryKey({ kind: 'queue', team: 'null' }),
    )
    expect(listQueryKey({ kind: 'job', jobId: 'j1' })).not.toBe(
      listQueryKey({ kind: 'export', jobId: 'j1' }),
    )
  })

  it('names the HTTP route that answers each query', () => {
    expect(listQueryPath({ kind: 'queue', team: 'a b' })).toBe('/queue?team=a%20b')
    expect(listQueryPath({ kind: 'conversations', team: null, status: ['new', 'pending'] })).toBe(
      '/conversations?unassigned=true&status=new%2Cpending',
    )
    expect(listQueryPath({ kind: 'conversations', contactId: 'c1' })).toBe(
      '/conversations?contactId=c1',
    )
    expect(listQueryPath({ kind: 'export', jobId: 'j1' })).toBe('/exports/j1')
    expect(listQueryPath({ kind: 'crm-status', contactId: 'c1' })).toBe('/contacts/c1/crm')
    expect(listQueryPath({ kind: 'jobs', jobKind: 'relink' })).toBe('/jobs?kind=relink')
    expect(listQueryPath({ kind: 'crm-deliveries', state: 'dead' })).toBe(
      '/crm/deliveries?state=dead',
    )
    expect(listQueryKey({ kind: 'crm-deliveries' })).not.toBe(
      listQueryKey({ kind: 'crm-deliveries', state: 'dead' }),
    )
  })

  it('lets roles read what their HTTP routes let them read', () => {
    expect(mayReadList('agent', { kind: 'deleted-contacts' })).toBe(false)
    expect(mayReadList('admin', { kind: 'deleted-contacts' })).toBe(true)
    expect(mayReadList('agent', { kind: 'export', jobId: 'j' })).toBe(false)
    expect(mayReadList('bot', { kind: 'queue', team: null })).toBe(false)
    expect(mayReadList('agent', { kind: 'queue', team: null })).toBe(true)
    expect(mayReadList('agent', { kind: 'crm-deliveries' })).toBe(false)
    expect(mayReadList('admin', { kind: 'crm-deliveries', state: 'dead' })).toBe(true)
  })

  it('names the contact a query is about', () => {
    expect(listQueryContact({ kind: 'history', contactId: 'c1' })).toBe('c1')
    expect(listQueryContact({ kind: 'conversations', team: 'x' })).toBeNull()
    expect(listQueryContact({ kind: 'vip' })).toBeNull()
  })
})
