/**
 * Fabric's block hashing, as protoutil does it (fabric/protoutil/blockutils.go):
 *   BlockHeaderHash = SHA-256( DER( SEQUENCE { INTEGER number, OCTET STRING previous_hash,
 *                                              OCTET STRING data_hash } ) )
 *   BlockDataHash   = SHA-256( data[0] ‖ data[1] ‖ … )   (the serialized envelopes, concatenated)
 * Go's encoding/asn1 marshals the number as a *big.Int: minimal two's-complement bytes, so a
 * leading 0x00 when the top bit is set and a single 0x00 for zero. A nil hash is an empty
 * OCTET STRING. Checked against OpenSSL-generated DER in test/fabric/block-hash.test.ts.
 */
import { createHash } from 'node:crypto';

/** The three header fields that enter the hash. */
export interface BlockHeaderFields {
  readonly number: bigint | number;
  readonly previousHash: Uint8Array;
  readonly dataHash: Uint8Array;
}

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function derInteger(value: bigint): number[] {
  if (value < 0n) throw new RangeError('block number must be non-negative');
  const bytes: number[] = [];
  for (let v = value; v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn));
  if (bytes.length === 0 || (bytes[0] as number) & 0x80) bytes.unshift(0);
  return [0x02, ...derLength(bytes.length), ...bytes];
}

function derOctets(value: Uint8Array): number[] {
  return [0x04, ...derLength(value.length), ...value];
}

/** DER bytes of the header, exactly what Fabric hashes. */
export function blockHeaderBytes(h: BlockHeaderFields): Uint8Array {
  const body = [...derInteger(BigInt(h.number)), ...derOctets(h.previousHash), ...derOctets(h.dataHash)];
  return Uint8Array.from([0x30, ...derLength(body.length), ...body]);
}

/** SHA-256 of the header's DER bytes: the value the next block carries as previous_hash. */
export function blockHeaderHash(h: BlockHeaderFields): Uint8Array {
  return new Uint8Array(createHash('sha256').update(blockHeaderBytes(h)).digest());
}

/** SHA-256 over the concatenated data entries (serialized envelopes). */
export function blockDataHash(data: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const d of data) h.update(d);
  return new Uint8Array(h.digest());
}

/** Lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
