import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Backend } from '../src/backend'
import type { InboundResult } from '../src/ingestion/inbound-log'
import { backends } from './backends'

const answer = (contactId: string, conversationId: string, created = false): InboundResult => ({
  contactId,
  conversationId,
  createdContact: created,
  createdConversation: created,
})

describe.each(backends)('%s inbound log', (_name, open) => {
  let backend: Backend
  let cleanup: () => Promise<void>

  beforeEach(async () => {
    ;({ backend, cleanup } = await open())
  })

  afterEach(() => cleanup())

  it('finds nothing under a key that was never recorded', async () => {
    expect(await backend.inbound.find('w1', 'k1')).toBeNull()
    await backend.inbound.record('w1', 'k1', answer('c1', 'v1'), 10)
    expect(await backend.inbound.find('w1', 'k2')).toBeNull()
    expect(await backend.inbound.find('w1', '')).toBeNull()
  })

  it('finds the recorded answer under its key, flags included', async () => {
    const mixed: InboundResult = {
      contactId: 'c1',
      conversationId: 'v1',
      createdContact: true,
      createdConversation: false,
    }
    const other: InboundResult = {
      contactId: 'c2',
      conversationId: 'v2',
      createdContact: false,
      createdConversation: true,
    }
    await backend.inbound.record('w1', 'k1', mixed, 10)
    await backend.inbound.record('w1', 'k2', other, 11)

    expect(await backend.inbound.find('w1', 'k1')).toEqual(mixed)
    expect(await backend.inbound.find('w1', 'k2')).toEqual(other)
  })

  it('keeps the first answer when a key is recorded a second time', async () => {
    const first = answer('c1', 'v1', true)
    expect(await backend.inbound.record('w1', 'k1', first, 10)).toEqual(first)
    // The second recorder is told the first answer, to give the channel instead of its own.
    expect(await backend.inbound.record('w1', 'k1', answer('c9', 'v9', false), 20)).toEqual(first)

    expect(await backend.inbound.find('w1', 'k1')).toEqual(first)
  })

  it('gives every one of several recorders racing on one key the same answer', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        backend.inbound.record('w1', 'k1', answer(`c${i}`, `v${i}`), i),
      ),
    )
    expect(new Set(answers.map((a) => a.contactId)).size).toBe(1)
    expect(await backend.inbound.find('w1', 'k1')).toEqual(answers[0])
  })

  it('keeps the answers of each workspace apart under the same key', async () => {
    await backend.inbound.record('w1', 'k1', answer('c1', 'v1'), 10)
    expect(await backend.inbound.find('w2', 'k1')).toBeNull()

    await backend.inbound.record('w2', 'k1', answer('c2', 'v2'), 20)
    expect(await backend.inbound.find('w1', 'k1')).toEqual(answer('c1', 'v1'))
    expect(await backend.inbound.find('w2', 'k1')).toEqual(answer('c2', 'v2'))
  })

  it('drops only the entries that point at the forgotten contact', async () => {
    await backend.inbound.record('w1', 'k1', answer('c1', 'v1', true), 10)
    await backend.inbound.record('w1', 'k2', answer('c1', 'v2'), 11)
    await backend.inbound.record('w1', 'k3', answer('c2', 'v3'), 12)
    await backend.inbound.record('w2', 'k1', answer('c1', 'v4'), 13)
    // A conversation id equal to the contact id does not make an entry point at the contact.
    await backend.inbound.record('w1', 'k4', answer('c3', 'c1'), 14)

    await backend.inbound.forgetContact('w1', 'c1')

    expect(await backend.inbound.find('w1', 'k1')).toBeNull()
    expect(await backend.inbound.find('w1', 'k2')).toBeNull()
    expect(await backend.inbound.find('w1', 'k3')).toEqual(answer('c2', 'v3'))
    expect(await backend.inbound.find('w1', 'k4')).toEqual(answer('c3', 'c1'))
    expect(await backend.inbound.find('w2', 'k1')).toEqual(answer('c1', 'v4'))
  })

  it('records a new answer under a key freed by forgetting its contact', async () => {
    await backend.inbound.record('w1', 'k1', answer('c1', 'v1'), 10)
    await backend.inbound.forgetContact('w1', 'c1')
    await backend.inbound.record('w1', 'k1', answer('c2', 'v2', true), 20)

    expect(await backend.inbound.find('w1', 'k1')).toEqual(answer('c2', 'v2', true))
  })

  it('forgets a contact without entries without error', async () => {
    await backend.inbound.record('w1', 'k1', answer('c1', 'v1'), 10)
    await backend.inbound.forgetContact('w1', 'ghost')
    await backend.inbound.forgetContact('w9', 'c1')
    expect(await backend.inbound.find('w1', 'k1')).toEqual(answer('c1', 'v1'))
  })
})
