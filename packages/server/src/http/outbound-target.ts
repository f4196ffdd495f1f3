import { lookup as dnsLookup } from 'node:dns'
import type { LookupAddress, LookupAllOptions, LookupOptions } from 'node:dns'
import { BlockList, isIP } from 'node:net'
import { CardfileError, ErrorCodes } from '@cardfile/core'

/**
 * Address ranges an outbound call of the server must never reach unless the operator allowed
 * it: a webhook or CRM URL is chosen by a workspace admin, and the server would otherwise call
 * its own network for them (loopback services, the cloud metadata endpoint, the database).
 */
function privateRanges(): BlockList {
  const list = new BlockList()
  for (const [net, prefix] of [
    ['0.0.0.0', 8], // "this network", 0.0.0.0 included
    ['10.0.0.0', 8],
    ['100.64.0.0', 10], // carrier-grade NAT
    ['127.0.0.0', 8],
    ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15], // benchmarking
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved and broadcast
  ] as const) {
    list.addSubnet(net, prefix, 'ipv4')
  }
  for (const [net, prefix] of [
    ['::', 128], // unspecified
    ['::1', 128], // loopback
    ['fc00::', 7], // unique-local
    ['fe80::', 10], // link-local
    ['fec0::', 10], // site-local (deprecated, still routed by some)
    ['ff00::', 8], // multicast
  ] as const) {
    list.addSubnet(net, prefix, 'ipv6')
  }
  return list
}

const PRIVATE = privateRanges()

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any. */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase()
  const dotted = /^(?:::ffff:|::ffff:0:|64:ff9b::|::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower)
  if (dotted !== null) return dotted[1] ?? null
  const hex = /^(?:::ffff:|::ffff:0:|64:ff9b::|::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower)
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4})(?::|$)/.exec(lower)
  const parts = hex ?? sixToFour
  if (parts === null) return null
  const high = parseInt(parts[1] ?? '0', 16)
  const low = parseInt(parts[2] ?? '0', 16)
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`
}

/**
 * True when `address` (an IP literal) is loopback, private, link-local, unique-local,
 * unspecified, multicast or reserved, or an IPv6 form of such an IPv4 address. Anything that
 * is not an IP literal counts as private: only a checked address is called.
 *
 * @example
 * isPrivateAddress('169.254.169.254') // true
 * isPrivateAddress('::ffff:7f00:1') // true
 * isPrivateAddress('93.184.216.34') // false
 */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  const family = isIP(bare)
  if (family === 4) return PRIVATE.check(bare, 'ipv4')
  if (family !== 6) return true
  const v4 = embeddedIpv4(bare)
  if (v4 !== null && isIP(v4) === 4 && PRIVATE.check(v4, 'ipv4')) return true
  return PRIVATE.check(bare, 'ipv6')
}

/** The error of a URL or address the server refuses to call (`field`: the setting it came in). */
export class ForbiddenTargetError extends CardfileError {
  constructor(message: string, field?: string) {
    super(ErrorCodes.ForbiddenTarget, message, field)
  }
}

/** The hint every refusal ends with, for operators who run receivers on their own network. */
const OPT_OUT =
  'allowed only when the server runs with allowPrivateOutboundTargets (--allow-private-outbound-targets)'

/**
 * Checks a URL an admin gave (a webhook, a CRM endpoint) before it is stored or called: http
 * or https, no credentials, and no host that is an IP literal in a private range (the URL
 * parser has already turned decimal, hex and octal IPv4 forms into dotted ones). A host name
 * is resolved at configuration by `checkResolvedTarget` and at every call by `guardedLookup`.
 * `what` names the URL in messages ("A webhook URL"); `field` is the setting, if any. Throws
 * `forbidden-target` (`bad-request` for a URL that does not parse).
 *
 * @example
 * checkOutboundTarget('http://0x7f.0.0.1/hook', false) // throws forbidden-target
 */
export function checkOutboundTarget(
  raw: string,
  allowPrivate: boolean,
  what = 'The URL',
  field?: string,
): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new CardfileError(ErrorCodes.BadRequest, `${what} does not parse`, field)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ForbiddenTargetError(`${what} must be http or https`, field)
  }
  if (url.username !== '' || url.password !== '') {
    throw new ForbiddenTargetError(
      `${what} must not hold credentials: receivers check the signature instead`,
      field,
    )
  }
  if (allowPrivate) return url
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) !== 0) {
    if (isPrivateAddress(host)) {
      throw new ForbiddenTargetError(
        `${what} must not point at a loopback, private or link-local address (${OPT_OUT})`,
        field,
      )
    }
  }
  return url
}

/**
 * True when `url` lies under one of the `trusted` base URLs the operator configured (same
 * scheme, host and port; the path at or below the base's, at a segment boundary): such a
 * target is called even when it is private, as the operator, not an admin, chose it.
 *
 * @example
 * isTrustedTarget(new URL('http://localhost:4100/cardfile/lookup'), ['http://localhost:4100/cardfile']) // true
 * isTrustedTarget(new URL('http://localhost:4101/cardfile/lookup'), ['http://localhost:4100/cardfile']) // false
 */
export function isTrustedTarget(url: URL, trusted: readonly string[]): boolean {
  if (url.username !== '' || url.password !== '') return false
  return trusted.some((raw) => {
    let base: URL
    try {
      base = new URL(raw)
    } catch {
      return false
    }
    if (base.origin !== url.origin || base.origin === 'null') return false
    const root = base.pathname.replace(/\/+$/, '')
    return url.pathname === root || url.pathname.startsWith(`${root}/`)
  })
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void

/**
 * A `lookup` for outbound requests that resolves the host and refuses the connection when any
 * of its addresses is private (`ForbiddenTargetError`), so a name that resolved to a public
 * address when the URL was configured cannot be turned to the server's own network later
 * (DNS rebinding): the address checked is the address connected to. `what` names the host in
 * the message ("The webhook host").
 *
 * @example
 * http.request(url, { lookup: guardedLookup(false) })
 */
export function guardedLookup(allowPrivate: boolean, what = 'The host') {
  return (
    hostname: string,
    options: LookupOptions | number | undefined,
    callback: LookupCallback,
  ): void => {
    const base: LookupOptions = typeof options === 'number' ? { family: options } : (options ?? {})
    const all: LookupAllOptions = { ...base, all: true }
    dnsLookup(hostname, all, (error, addresses) => {
      if (error !== null) {
        callback(error, [])
        return
      }
      const forbidden = allowPrivate ? [] : addresses.filter((a) => isPrivateAddress(a.address))
      if (forbidden.length > 0) {
        callback(
          new ForbiddenTargetError(
            `${what} resolves to a loopback, private or link-local address (${OPT_OUT})`,
          ),
          [],
        )
        return
      }
      const first = addresses[0]
      if (base.all === true) callback(null, addresses)
      else if (first === undefined) callback(Object.assign(new Error('no address'), {}), [])
      else callback(null, first.address, first.family)
    })
  }
}

/**
 * Configuration's check of a host name: refused when it is a `localhost` name or resolves to a
 * private address now. A name that does not resolve yet is let through (every call checks
 * again). `what` and `field` as for `checkOutboundTarget`.
 *
 * @example
 * await checkResolvedTarget(new URL('https://hooks.example.com/x'), false)
 */
export async function checkResolvedTarget(
  url: URL,
  allowPrivate: boolean,
  what = 'The URL',
  field?: string,
): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (allowPrivate || isIP(host) !== 0) return
  if (/(^|\.)localhost\.?$/i.test(host)) {
    throw new ForbiddenTargetError(`${what} must not point at localhost (${OPT_OUT})`, field)
  }
  const lookup = guardedLookup(false, `${what}'s host`)
  await new Promise<void>((resolve, reject) => {
    lookup(host, { all: true }, (error) => {
      if (error instanceof ForbiddenTargetError) {
        reject(field === undefined ? error : new ForbiddenTargetError(error.message, field))
      } else resolve()
    })
  })
}
