import { describe, expect, it } from 'vitest'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { CardfileError } from '../src/errors'
import { decodeTokenClaims, refreshDelay } from '../src/client/token'
import { readHello, readHelloNotice, readPurge, readRefusal } from '../src/protocol'
import { closeError, refusalError } from '../src/client/wire'

const stringPayload = (text: string) => {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, text)
  return decoding.createDecoder(encoding.toUint8Array(encoder))
}

const base64Url = (json: unknown) =>
  btoa(JSON.stringify(json)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

describe('wire messages', () => {
  it('turns a refusal notice into a CardfileError with its code and field', () => {
    const notice = readRefusal(
      stringPayload(
        JSON.stringify({
          doc: 'demo/contact/c1',
          field: 'custom:plan',
          map: 'custom',
          key: 'plan',
          code: 'not-an-option',
          message: '"gold" is not an option of Plan',
        }),
      ),
      'demo/contact/c1',
    )
    const error = refusalError(notice)
    expect(error).toBeInstanceOf(CardfileError)
    expect(error.code).toBe('not-an-option')
    expect(error.field).toBe('custom:plan')
  })

  it('reads an unreadable refusal as an internal error instead of throwing', () => {
    expect(readRefusal(stringPayload('{nope'), 'demo/schema').code).toBe('internal')
  })

  it('reads a purge notice, and a malformed one still names the document', () => {
    expect(readPurge(stringPayload('{"doc":"d/contact/c1","reason":"x"}'), 'n')).toEqual({
      doc: 'd/contact/c1',
      reason: 'x',
    })
    expect(readPurge(stringPayload('garbage'), 'd/contact/c2').doc).toBe('d/contact/c2')
  })

  it('reads the generation of a hello, and nothing from a malformed one', () => {
    expect(readHello(stringPayload(JSON.stringify({ generation: 'g-1' })))).toBe('g-1')
    expect(readHello(stringPayload('{nope'))).toBeNull()
    expect(readHello(stringPayload(JSON.stringify({ generation: 7 })))).toBeNull()
    expect(readHello(stringPayload(JSON.stringify({ generation: '' })))).toBeNull()
  })

  it("reads a hello's features: strings once each, none from a hello without them", () => {
    const hello = (value: unknown) => readHelloNotice(stringPayload(JSON.stringify(value)))
    expect(hello({ generation: 'g-1', features: ['lists', 'mux', 'lists', 3] })).toEqual({
      generation: 'g-1',
      features: ['lists', 'mux'],
    })
    expect(hello({ generation: 'g-1' })).toEqual({ generation: 'g-1', features: [] })
    expect(hello({ generation: 'g-1', features: 'lists' }).features).toEqual([])
    expect(readHelloNotice(stringPayload('{nope'))).toEqual({ generation: null, features: [] })
  })

  it('maps a stale-generation close to cache-discarded', () => {
    expect(closeError(4409, 'stale-generation')?.code).toBe('cache-discarded')
  })

  it('maps permanent close codes to error codes', () => {
    expect(closeError(4401, 'token-expired')?.code).toBe('token-expired')
    expect(closeError(4401, 'bad signature')?.code).toBe('unauthorized')
    expect(closeError(4403, '')?.code).toBe('forbidden')
    expect(closeError(4404, 'unknown-workspace')?.code).toBe('unknown-workspace')
    expect(closeError(1006, '')).toBeNull()
  })
})

describe('tokens', () => {
  it('reads the claims of a JWT without verifying it', () => {
    const token = `${base64Url({ alg: 'HS256' })}.${base64Url({
      sub: 'ana',
      name: 'Ana',
      workspace: 'demo',
      role: 'agent',
      exp: 2_000_000_000,
    })}.sig`
    expect(decodeTokenClaims(token)).toEqual({
      userId: 'ana',
      name: 'Ana',
      workspace: 'demo',
      role: 'agent',
      expiresAt: 2_000_000_000_000,
    })
    expect(decodeTokenClaims('not-a-jwt')).toBeNull()
  })

  it('refreshes ahead of expiry by a tenth of the lifetime, at least 5 s and at most half of it', () => {
    expect(refreshDelay(100_000, 0)).toBe(90_000)
    expect(refreshDelay(20_000, 0)).toBe(15_000)
    expect(refreshDelay(2_000, 0)).toBe(1_000)
    expect(refreshDelay(1_000, 5_000, 0)).toBe(0)
  })
})
