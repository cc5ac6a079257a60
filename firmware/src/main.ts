/**
 * Provenant firmware entry point (docs/firmware.md). At boot: read provisioning, resume the
 * counter, derive the subkeys of K_IoT, reload the resend ring, take the data link, say HELLO.
 * On PARTIAL: sync the clock within its rules (clock.ts: the edge cannot move it back or far
 * ahead), adopt the epoch and traffic profile, start sampling. Per sample: read the sensors as
 * fixed-point integers, encode the canonical reading v2 (with boot count and uptime), tag it
 * (HMAC-SHA256 under K_tag with the reading label, on the native SHA256), frame it, keep it until
 * ACKed. On CHALLENGE: answer the Device Provenance RESPONSE under K_chal. On MAINT: check it
 * under K_maint, which only the owner holds. Refused by the edge (NACK UNKNOWN_DEVICE): HELLO
 * again only after a doubling backoff. All timing runs on uptime, which nothing can set. Every
 * reading's dataHash is folded into its epoch segment, which the board signs with a one-time LMS
 * key when the segment closes (epochs.ts).
 *
 * State lives in module variables (one closure for the whole bundle) to stay within the
 * board's variable budget; every frame handler is wrapped so bad input is counted, never fatal.
 */
import { encodeReadingAs } from '../../shared/encoding/reading.js';
import { equalBytes } from '../../shared/encoding/bytes.js';
import { DOMAIN_MAINT, DOMAIN_READING, maintBody, SUBKEY_CHALLENGE, SUBKEY_MAINT, SUBKEY_TAG } from '../../shared/crypto/domains.js';
import { hmacLabeled } from '../../shared/crypto/hmac.js';
import type { ChannelValue } from '../../shared/types.js';
import {
  MAINT_UNLOCK,
  MSG_ACK,
  MSG_CHALLENGE,
  MSG_HELLO,
  MSG_MAINT,
  MSG_NACK,
  MSG_PARTIAL,
  MSG_PING,
  MSG_PONG,
  MSG_READING,
  MSG_RESPONSE,
  MSG_SIG_ACK,
  MSG_STATUS,
  NACK_NO_PARTIAL,
  NACK_REVOKED,
  NACK_UNKNOWN_DEVICE,
  STATUS_BAD_PROVISIONING,
  STATUS_MAINT_REJECTED,
  STATUS_NOT_PROVISIONED,
  STATUS_RING_FULL,
  STATUS_RX_ERRORS,
  STATUS_SENSOR_FAULT,
  STATUS_SEQ_EXHAUSTED,
  STATUS_STOPPED,
  STATUS_UNLOCKED,
  nackIsRetryable,
} from '../../shared/wire/messages.js';
import { BATTERY, BUTTON, EPOCH_SIGNATURES, FW_HASH_B64, FW_VERSION, LINK, NAME, SERIAL1, SERIAL2 } from './board.js';
import { countBoot, next as nextSeq, resumeSeq, seqExhausted, takeSeq } from './counter.js';
import { clockBoot, clockSync, stamp, uptime } from './clock.js';
import { epochAck, epochBoot, epochPartial, epochReading, epochTick } from './epochs.js';
import {
  after,
  analogTenThousandths,
  base64Bytes,
  batteryMv,
  cancel,
  consoleOff,
  consoleOn,
  dataBytes,
  every,
  linkObject,
  pinHigh,
  sha256,
  storage,
  temperatureCenti,
  type EspSerial,
} from './espruino.js';
import { MIN_INTERVAL_MS, parseProvisioning, type Provisioning } from './provision.js';
import { entries, ringAdd, ringFull, ringLoad, ringRemove, type Entry } from './ring.js';
import {
  challengeAnswer,
  frameBytes,
  helloPayload,
  need,
  readMaint,
  readNack,
  readPartial,
  readU32,
  receiver,
  statusPayload,
  u32Payload,
} from './wire.js';

/** Housekeeping period: HELLO retries, resends, error reports (ms). */
const TICK_MS = 1000;
/** HELLO / STATUS repeat period while waiting (ms). */
const HELLO_MS = 5000;
/** Longest resend delay (rounds without progress double it), and longest HELLO backoff (ms). */
const MAX_WAIT_MS = 60000;
/** First HELLO retry after the edge refused the device (doubles per refusal up to MAX_WAIT_MS). */
const REFUSED_MS = 1000;

let prov: Provisioning;
/** K_tag and K_chal: subkeys of K_IoT derived once at boot (K_maint only when a MAINT arrives). */
let kTag: Uint8Array;
let kChal: Uint8Array;
let link: EspSerial;
let boots = 0;
let locked = false;
let stopped = false;
let epoch = 0;
let digest: Uint8Array | null = null;
let gap = 0;
let lastSample = -1e15;
let lastHello = -1e15;
/** HELLO backoff after NACK UNKNOWN_DEVICE; 0 = not refused (HELLO every HELLO_MS while waiting). */
let backoff = 0;
/** Challenges answered since the last tick (at most one a second is answered). */
let answered = 0;
let skipped = 0;
let rxDrops = 0;
let reportedSkips = 0;
/** Board ms when the next resend round is due (docs/firmware.md "Resend ring"). */
let due = 0;
/** Current resend delay: firstWait() after progress, doubled by each round without progress up to MAX_WAIT_MS. */
let wait = 0;
/** Rounds since the last progress: which entry the next round resends (oldest first, each in turn). */
let turn = 0;
let sampler: number | undefined;
let ticker: number | undefined;
const rx = receiver(function (type, payload) {
  try {
    handle(type, payload);
  } catch {
    rx.drops++; // a payload its strict decoder refused
  }
});

function send(type: number, payload: ArrayLike<number>): void {
  link.write(frameBytes(type, payload));
}

/** STATUS with a numeric value; the text is empty except for BAD_PROVISIONING (docs/firmware.md). */
function status(code: number, value: number, text?: string): void {
  send(MSG_STATUS, statusPayload(code, value, text || ''));
}

function hello(): void {
  lastHello = uptime();
  send(
    MSG_HELLO,
    helloPayload(
      prov.deviceId,
      FW_VERSION,
      base64Bytes(FW_HASH_B64),
      nextSeq,
      boots,
      +prov.production | (locked ? 2 : 0),
      entries.length,
      NAME,
    ),
  );
}

function firstWait(): number {
  return Math.max(2 * gap, 2000);
}

/** Progress (an ACK freed entries, a PARTIAL resent them all, a reading into an empty ring): the next round is firstWait() away. */
function rearm(): void {
  turn = 0;
  due = uptime() + (wait = firstWait());
}

/** Cancels a timer if armed; returns undefined to store back into the id variable. */
function off(id: number | undefined): undefined {
  // Espruino throws on clearing a timer id twice, and clears ALL timers for undefined.
  if (id !== undefined) cancel(id);
  return undefined;
}

function stop(code: number, value: number): void {
  stopped = true;
  sampler = off(sampler);
  status(code, value);
}

function has(sensor: string): boolean {
  return prov.sensors.indexOf(sensor) >= 0;
}

/**
 * Reads one sensor into `channels` as channel `id`; returns 0, or the channel's SENSOR_FAULT bit
 * (1 << id) when the sensor threw or gave no 32-bit integer (e.g. the Linux build's NaN temperature).
 */
function sense(channels: ChannelValue[], id: number, scale: number, read: () => number): number {
  let v = NaN;
  try {
    v = read();
  } catch {
    // a fault, like NaN
  }
  if (v !== (v | 0)) return 1 << id;
  channels.push({ id: id, scale: scale, value: v });
  return 0;
}

/**
 * One sample: never faster than `gap`, never without a PARTIAL, never past a full ring. A sensor
 * that fails is left out of the reading and named in STATUS SENSOR_FAULT (bits: 1 temperature,
 * 2 analog, 4 battery), so one bad sensor never stops the others; the sample slot is spent either
 * way, so a fault is reported at most once per sample period.
 */
function sample(): void {
  const now = uptime();
  if (stopped || digest === null || now - lastSample < gap) return;
  lastSample = now;
  if (ringFull()) {
    skipped++; // reported by tick(), at most once a second: a full ring must not flood the link
    return;
  }
  if (seqExhausted()) return stop(STATUS_SEQ_EXHAUSTED, nextSeq);
  const channels: ChannelValue[] = [];
  let faults = has('temperature') ? sense(channels, 0, -2, temperatureCenti) : 0;
  if (has('analog'))
    faults |= sense(channels, 1, -4, function () {
      return analogTenThousandths(prov.analogPin);
    });
  let mv = 0;
  if (has('battery')) {
    try {
      mv = batteryMv(BATTERY);
    } catch {
      faults |= 4;
    }
  }
  if (faults) status(STATUS_SENSOR_FAULT, faults);
  const seq = takeSeq();
  const canonical = encodeReadingAs(
    {
      deviceId: prov.deviceId,
      seq: seq,
      t: stamp(),
      epoch: epoch,
      partialDigest: digest,
      batteryMv: mv,
      channels: channels,
      bootCount: boots,
      uptimeMs: now,
    },
    true,
  );
  const payload = new Uint8Array(canonical.length + 32);
  payload.set(canonical);
  // = readingTag(sha256, kTag, canonical), written out: the wrapper costs bytes on the board.
  payload.set(hmacLabeled(sha256, kTag, DOMAIN_READING, canonical), canonical.length);
  if (!entries.length) rearm();
  ringAdd(seq, payload);
  send(MSG_READING, payload);
  if (EPOCH_SIGNATURES) epochReading(epoch, digest, seq, canonical);
}

/** Arms the sampling timer for the earliest moment the rate guard allows (none while stopped or without a PARTIAL). */
function schedule(): void {
  off(sampler);
  sampler =
    stopped || digest === null
      ? undefined
      : after(Math.max(1, lastSample + gap - uptime()), function () {
          sampler = undefined;
          try {
            sample();
          } catch {
            // E.g. t past 2^53 ms (a first sync near it) or 34 years of uptime: say so, keep the loop alive.
            status(STATUS_SENSOR_FAULT, 255);
          }
          schedule();
        });
}

function onPartial(p: Uint8Array): void {
  const m = readPartial(p);
  if (EPOCH_SIGNATURES) epochPartial(m.epoch, m.partialDigest);
  epoch = m.epoch;
  digest = m.partialDigest;
  // The rate guard and every timer run on uptime, which a PARTIAL cannot touch; only t follows it.
  clockSync(m.edgeTimeMs);
  backoff = 0;
  gap = Math.max(MIN_INTERVAL_MS, prov.intervalMs, m.intervalMs, m.maxPerMinute > 0 ? Math.ceil(60000 / m.maxPerMinute) : 0);
  if (stopped) return;
  for (let i = 0; i < entries.length; i++) send(MSG_READING, (entries[i] as Entry).p);
  rearm();
  schedule();
}

function onNack(p: Uint8Array): void {
  const n = readNack(p);
  const seq = n[0] as number;
  const reason = n[1] as number;
  // Revoked: stop, and drop that reading like any final NACK (a stopped board still resends its ring).
  if (reason === NACK_REVOKED) stop(STATUS_STOPPED, seq);
  if (reason === NACK_NO_PARTIAL || reason === NACK_UNKNOWN_DEVICE) digest = null;
  if (reason === NACK_NO_PARTIAL) hello();
  // Refused: no HELLO at once (that was a busy loop on the link); tick() says HELLO after the
  // backoff, doubled for each refused HELLO (the edge NACKs a HELLO with the HELLO's seq).
  if (reason === NACK_UNKNOWN_DEVICE && seq === nextSeq) backoff = Math.min(2 * backoff || REFUSED_MS, MAX_WAIT_MS);
  // A retryable NACK keeps the reading: no progress, so the rounds go on doubling; the next
  // round starts again from the oldest entry, the one the edge's cumulative ACK waits for.
  turn = 0;
  const retry = nackIsRetryable(reason);
  ringRemove(function (e) {
    return e.s === seq && !retry;
  });
}

function onMaint(p: Uint8Array): void {
  const m = readMaint(p);
  // K_maint is derived here, not kept: MAINT is rare, and only the owner's K_IoT yields it.
  const expect = hmacLabeled(
    sha256,
    hmacLabeled(sha256, prov.key, SUBKEY_MAINT, [1]),
    DOMAIN_MAINT,
    maintBody(prov.deviceId, m.command, m.counter),
  );
  if (!equalBytes(expect, m.tag) || m.counter <= (+(storage.read('pv.maint') as string) || 0) || m.command !== MAINT_UNLOCK) {
    return status(STATUS_MAINT_REJECTED, m.counter);
  }
  storage.write('pv.maint', String(m.counter));
  stop(STATUS_UNLOCKED, m.counter);
  ticker = off(ticker);
  locked = false;
  consoleOn(prov.link);
}

/** Device Provenance (Algorithm 2): answers HMAC-SHA256(K_chal, label ‖ challenge), at most once per tick. */
function onChallenge(p: Uint8Array): void {
  need(p, 32); // a malformed CHALLENGE is counted even when the rate limit would skip it
  // Two SHA-256 runs each: an open link must not be able to burn the battery with challenges.
  if (!answered++) send(MSG_RESPONSE, challengeAnswer(sha256, kChal, p));
}

function handle(t: number, p: Uint8Array): void {
  if (t === MSG_PARTIAL) onPartial(p);
  else if (t === MSG_ACK) {
    const upTo = readU32(p);
    const n = entries.length;
    ringRemove(function (e) {
      return e.s <= upTo;
    });
    if (entries.length < n) rearm();
  } else if (t === MSG_NACK) onNack(p);
  else if (t === MSG_PING) send(MSG_PONG, u32Payload(readU32(p)));
  else if (t === MSG_MAINT) onMaint(p);
  else if (t === MSG_CHALLENGE) onChallenge(p);
  else if (EPOCH_SIGNATURES && t === MSG_SIG_ACK) epochAck(p);
}

function onData(data: string): void {
  if (locked) rx.push(dataBytes(data));
}

function tick(): void {
  answered = 0;
  if (!stopped && digest === null && uptime() - lastHello >= (backoff || HELLO_MS)) hello();
  // One resend round when due: a single entry, oldest first and the next one each round, so a
  // late edge gets one duplicate per round instead of the whole ring; no progress doubles the delay.
  const es = entries;
  if (es.length && uptime() >= due) {
    send(MSG_READING, (es[turn++ % es.length] as Entry).p);
    due = uptime() + (wait = Math.min(2 * wait, MAX_WAIT_MS));
  }
  if (rx.drops !== rxDrops) status(STATUS_RX_ERRORS, (rxDrops = rx.drops));
  if (skipped !== reportedSkips) status(STATUS_RING_FULL, (reportedSkips = skipped));
  if (EPOCH_SIGNATURES) epochTick(uptime());
}

/** Without valid provisioning the board keeps its console and says why, every HELLO_MS. */
function unprovisioned(code: number, why: string): void {
  link = linkObject(LINK);
  const report = function (): void {
    status(code, 0, why);
  };
  report();
  every(report, HELLO_MS);
}

function boot(): void {
  const text = storage.read('provenant.json');
  if (text === undefined) return unprovisioned(STATUS_NOT_PROVISIONED, '');
  let p: Provisioning | string;
  try {
    p = parseProvisioning(JSON.parse(text) as { [k: string]: unknown });
  } catch {
    p = 'provenant.json';
  }
  if (typeof p === 'string') return unprovisioned(STATUS_BAD_PROVISIONING, p);
  prov = p;
  // = subkey(sha256, K_IoT, info) of shared/crypto/domains.ts (HKDF-Expand, T(1)), written out:
  // fewer bytes on the board.
  kTag = hmacLabeled(sha256, prov.key, SUBKEY_TAG, [1]);
  kChal = hmacLabeled(sha256, prov.key, SUBKEY_CHALLENGE, [1]);
  boots = countBoot();
  clockBoot(prov.notBefore);
  resumeSeq(prov.seqFloor);
  if (EPOCH_SIGNATURES) epochBoot(prov.deviceId, send, prov.signGapMs as number);
  link = linkObject(prov.link);
  if (link.setup && prov.link.charAt(0) === 'S') {
    // Serial1 or Serial2 (USB and Bluetooth need no setup).
    const pins = prov.link === 'Serial1' ? SERIAL1 : SERIAL2;
    // Only keys with values: Espruino's option reader rejects unknown or undefined ones.
    const o: { rx?: string; tx?: string; path?: string } = {};
    if (pins) {
      o.rx = pins.rx;
      o.tx = pins.tx;
    }
    if (prov.path) o.path = prov.path;
    link.setup(prov.baud, o);
  }
  // Maintenance boot: button held — keep the console on the link, do not sample.
  if (BUTTON && pinHigh(BUTTON)) return stop(STATUS_UNLOCKED, 0);
  consoleOff(prov.link, prov.production);
  locked = true;
  gap = prov.intervalMs;
  ringLoad();
  rearm();
  link.on('data', onData);
  link.write(new Uint8Array([0])); // flush a half frame the edge may hold from before the reboot
  hello();
  if (seqExhausted()) stop(STATUS_SEQ_EXHAUSTED, nextSeq);
  ticker = every(tick, TICK_MS);
}

boot();
