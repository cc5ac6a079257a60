/**
 * The board profile baked into this bundle by the build (hardware/boards/<NAME>.json, reduced to
 * what the board needs), plus the bundle's own identity.
 */

/** What the firmware knows about its board. */
export interface BoardConst {
  readonly name: string;
  readonly link: string;
  readonly links: readonly string[];
  readonly baud: number;
  readonly analog: string;
  readonly button: string;
  readonly battery: string;
  readonly sensors: readonly string[];
  readonly ring: number;
  readonly serial1?: { readonly rx: string; readonly tx: string };
  readonly serial2?: { readonly rx: string; readonly tx: string };
}

declare const PV_BOARD: BoardConst;
declare const PV_FW_VERSION: string;
declare const PV_FW_HASH: string;

/** This bundle's board profile. */
export const BOARD: BoardConst = PV_BOARD;
/** Firmware version string. */
export const FW_VERSION: string = PV_FW_VERSION;
/** Base64 SHA-256 of this bundle with this very string zeroed (docs/firmware.md). */
export const FW_HASH_B64: string = PV_FW_HASH;
