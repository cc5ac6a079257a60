/**
 * Device Provenance contract (talk, Algorithm 2): is this device who it claims to be? The ledger
 * issues a fresh challenge (`issueChallenge`, a nonce derived from its transaction id, with an
 * expiry); the caller has the device answer it with K_chal and presents the answer with the
 * device's metadata (shared/device-metadata.ts) to `prove`, which consumes the challenge and
 * answers TRUE / FALSE or throws "could not find the device" / "device signature mismatch".
 */
import { CONTRACTS } from '../client.js';
// Context is a value import on purpose: decorator metadata must name the class (see fabric.ts).
// eslint-disable-next-line @typescript-eslint/consistent-type-imports
import { Contract, Info, Returns, StringParams, Transaction, Context } from './fabric.js';
import { CONTRACT_ERRORS, contractError } from './errors.js';
import { KEY_TYPES } from './keys.js';
import { parseDeviceIdArg, parseHexArg } from './logic/args.js';
import { canonicalJson } from './logic/canonical.js';
import { assertFresh, CHALLENGE_BYTES, issueChallenge, type IssuedChallenge } from './logic/challenges.js';
import { decideProve } from './logic/device-proof.js';
import { parseMetadata } from './logic/registration.js';
import { callerOf, getJson, loadConfig, loadDevice, loadDeviceKeys, putJson } from './state.js';

function challengeKey(ctx: Context, deviceId: string, challengeHex: string): string {
  return ctx.stub.createCompositeKey(KEY_TYPES.challenge, [deviceId, challengeHex]);
}

/** The Device Provenance contract. */
@Info({ title: 'DeviceProvenance', description: 'Device identity proofs by challenge-response (talk, Algorithm 2)' })
export class DeviceProvenanceContract extends Contract {
  constructor() {
    super(CONTRACTS.deviceProvenance);
  }

  /**
   * A fresh challenge for `deviceId`, issued to the caller: `{ deviceId, challenge (32 bytes hex),
   * issuedAt, expiresAt, txId }`. "could not find the device" for an unregistered device.
   */
  @StringParams('deviceId')
  @Transaction()
  @Returns('string')
  async issueChallenge(ctx: Context, deviceId: string): Promise<string> {
    const id = parseDeviceIdArg(deviceId);
    if ((await loadDevice(ctx, id)) === undefined)
      throw contractError(CONTRACT_ERRORS.DEVICE_NOT_FOUND, `could not find the device ${id}`, { deviceId: id });
    const issued = issueChallenge(id, callerOf(ctx), ctx.stub.getTxID(), ctx.stub.getDateTimestamp().getTime());
    await putJson(ctx, challengeKey(ctx, id, issued.challenge), issued);
    return canonicalJson({
      challenge: issued.challenge,
      deviceId: id,
      expiresAt: issued.expiresAt,
      issuedAt: issued.issuedAt,
      txId: issued.txId,
    });
  }

  /**
   * Alg. 2. metadataJson: { attributes, gatewayId?, firmwareHash? } (shared/device-metadata.ts);
   * challengeHex: a challenge `issueChallenge` gave the same caller, unanswered and not expired;
   * responseHex: the device's HMAC(K_chal, 'pv2:c' ‖ challenge). Consumes the challenge.
   * Returns { verdict: 'TRUE' | 'FALSE', ... }.
   */
  @StringParams('deviceId', 'metadataJson', 'challengeHex', 'responseHex')
  @Transaction()
  @Returns('string')
  async prove(ctx: Context, deviceId: string, metadataJson: string, challengeHex: string, responseHex: string): Promise<string> {
    const id = parseDeviceIdArg(deviceId);
    const challengeText = parseHexArg(challengeHex, 'challenge').toLowerCase();
    const response = Buffer.from(parseHexArg(responseHex, 'response'), 'hex');
    const config = await loadConfig(ctx);
    const presented = parseMetadata(metadataJson, config.schema);
    // Algorithm 2's first branch comes first: an unknown device, whatever else is wrong.
    const record = await loadDevice(ctx, id);
    if (record === undefined) throw contractError(CONTRACT_ERRORS.DEVICE_NOT_FOUND, `could not find the device ${id}`, { deviceId: id });
    const challenge = Buffer.from(challengeText, 'hex');
    if (challenge.length !== CHALLENGE_BYTES) {
      throw contractError(
        CONTRACT_ERRORS.BAD_INPUT,
        `challenge must be the ${CHALLENGE_BYTES} bytes DeviceProvenance:issueChallenge gave (the ledger picks challenges)`,
        { field: 'challenge' },
      );
    }
    const key = challengeKey(ctx, id, challengeText);
    const issued = await getJson<IssuedChallenge>(ctx, key);
    assertFresh(issued, id, challengeText, callerOf(ctx), ctx.stub.getDateTimestamp().getTime());
    await ctx.stub.deleteState(key);
    const keys = await loadDeviceKeys(ctx, id);
    return canonicalJson(decideProve(id, record, keys?.kChal, presented, challenge, response));
  }
}
