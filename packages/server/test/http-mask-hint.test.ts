import { describe, expect, it } from 'vitest'
import {
  maskEmail,
  maskHandle,
  maskHint,
  maskName,
  maskPhone,
  maskWord,
} from '../src/ingestion/mask-hint'

describe('maskHint', () => {
  it('masks a handle to its first two and last characters, keeping the @', () => {
    expect(maskHandle('@anna')).toBe('@an***a')
    expect(maskHandle('anna')).toBe('@an***a')
    expect(maskHint('x', { platformUserId: '42', metadata: { x_handle: '@anna' } })).toBe('@an***a')
    expect(
      maskHint('instagram', { platformUserId: '7', metadata: { instagram_username: 'bengt' } }),
    ).toBe('@be***t')
  })

  it('hides the length of short words', () => {
    expect(maskWord('bob')).toBe('b***')
    expect(maskWord('b')).toBe('b***')
    expect(maskWord('')).toBe('***')
  })

  it('masks an email address but keeps the top-level domain', () => {
    expect(maskEmail('anna@example.com')).toBe('an***@ex***.com')
    expect(maskEmail('a@b.io')).toBe('a***@b***.io')
    expect(maskHint('email', { platformUserId: 'anna@example.com', metadata: {} })).toBe(
      'an***@ex***.com',
    )
  })

  it('keeps only the last digits of a phone number', () => {
    expect(maskPhone('+44 7700 900123')).toBe('***0123')
    expect(maskPhone('12345')).toBe('***45')
    expect(
      maskHint('whatsapp', {
        platformUserId: 'wa-1',
        metadata: { phone_number: '+1 555 0100 987' },
      }),
    ).toBe('***0987')
    expect(maskHint('sms', { platformUserId: '+15550100123', metadata: {} })).toBe('***0123')
  })

  it('masks names as a word and initials', () => {
    expect(maskName('Anna Berg')).toBe('An***a B.')
    expect(
      maskHint('facebook', { platformUserId: 'fb1', metadata: { facebook_name: 'Ola' } }),
    ).toBe('O***')
  })

  it('prefers a web chat visitor email, then the name, then the visitor id', () => {
    expect(
      maskHint('webchat', {
        platformUserId: 'v1',
        metadata: { email: 'cleo@mail.org', webchat_name: 'Cleo' },
      }),
    ).toBe('cl***@ma***.org')
    expect(maskHint('webchat', { platformUserId: 'v1', metadata: { webchat_name: 'Cleo' } })).toBe(
      'Cl***o',
    )
    expect(maskHint('webchat', { platformUserId: 'visitor-77', metadata: {} })).toBe(
      'visitor vi***7',
    )
  })

  it('never cuts a multi-byte character in half', () => {
    expect(maskWord('😀😁😂😃')).toBe('😀😁***😃')
  })
})
