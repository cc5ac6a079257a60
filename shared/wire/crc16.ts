/**
 * CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor): the frame check of
 * the wire protocol. Check value: CRC of ASCII "123456789" is 0x29B1.
 *
 * Bitwise rather than table-driven on purpose: a 512-byte table costs the board ~50 variables
 * for a speed-up that frames of at most 260 bytes do not need. ES5-safe.
 */

/**
 * CRC-16/CCITT-FALSE of `bytes[start..end)`, an integer 0..0xFFFF. No defaults: every caller
 * checks part of a frame, and default handling costs the board's bundle bytes.
 */
export function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc ^= (bytes[i] as number) << 8;
    for (let b = 0; b < 8; b++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}
