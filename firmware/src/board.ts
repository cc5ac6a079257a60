/**
 * The board profile baked into this bundle by the build (firmware/boards/<NAME>.json, reduced to
 * what the board needs), plus the bundle's own identity. Each field is its own build-time
 * constant (firmware/build.ts boardDefines) rather than one object, so the minifier folds the
 * profile into the code: a board without a button, a battery gauge or a serial port carries no
 * code for it.
 */

/** Pins of a serial port. */
export interface SerialPins {
  readonly rx: string;
  readonly tx: string;
}

declare const PV_NAME: string;
declare const PV_LINK: string;
declare const PV_LINKS: readonly string[];
declare const PV_BAUD: number;
declare const PV_ANALOG: string;
declare const PV_BUTTON: string;
declare const PV_BATTERY: string;
declare const PV_SENSORS: readonly string[];
declare const PV_RING: number;
declare const PV_SERIAL1: SerialPins | null;
declare const PV_SERIAL2: SerialPins | null;
declare const PV_EPOCH_SIGNATURES: boolean;
declare const PV_FW_VERSION: string;
declare const PV_FW_HASH: string;

/** Board profile name (HELLO). */
export const NAME: string = PV_NAME;
/** Default data link. */
export const LINK: string = PV_LINK;
/** Links provisioning may choose. */
export const LINKS: readonly string[] = PV_LINKS;
/** Default baud rate of a serial link. */
export const BAUD: number = PV_BAUD;
/** Default analog pin ('' = none). */
export const ANALOG: string = PV_ANALOG;
/** Button read at boot for a maintenance boot ('' = none). */
export const BUTTON: string = PV_BUTTON;
/** Battery method: 'nrf', 'vref' or 'none'. */
export const BATTERY: string = PV_BATTERY;
/** Sensors the board has. */
export const SENSORS: readonly string[] = PV_SENSORS;
/** Resend ring capacity. */
export const RING: number = PV_RING;
/** Serial1 pins, null when the profile names none. */
export const SERIAL1: SerialPins | null = PV_SERIAL1;
/** Serial2 pins, null when the profile names none. */
export const SERIAL2: SerialPins | null = PV_SERIAL2;
/** The board signs its epoch segments (epochs.ts); false leaves that code out of the bundle. */
export const EPOCH_SIGNATURES: boolean = PV_EPOCH_SIGNATURES;
/** Firmware version string. */
export const FW_VERSION: string = PV_FW_VERSION;
/** Base64 SHA-256 of this bundle with this very string zeroed (docs/firmware.md). */
export const FW_HASH_B64: string = PV_FW_HASH;
