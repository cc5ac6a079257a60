/**
 * Device Provenance contract (talk, Algorithm 2): is this device who it claims to be? The caller
 * presents the device's metadata and a challenge the device answered with its K_IoT; the contract
 * answers TRUE / FALSE or throws "could not find the device" / "device signature mismatch".
 */
import { CONTRACTS } from '../client.js';
// Context is a value import on purpose: decorator metadata must name the class (see fabric.ts).
// eslint-disable-next-line @typescript-eslint/consistent-type-imports
import { Contract, Info, Returns, StringParams, Transaction, Context } from './fabric.js';
import { CONTRACT_ERRORS, contractError } from './errors.js';
import { parseDeviceIdArg, parseHexArg } from './logic/args.js';
import { canonicalJson } from './logic/canonical.js';
import { decideProve, MAX_CHALLENGE_BYTES, MIN_CHALLENGE_BYTES } from './logic/device-proof.js';
import { parseMetadata } from './logic/registration.js';
import { loadConfig, loadDevice, loadDeviceKeys } from './state.js';

/** The Device Provenance contract. */
@Info({ title: 'DeviceProvenance', description: 'Device identity proofs by challenge-response (talk, Algorithm 2)' })
export class DeviceProvenanceContract extends Contract {
  constructor() {
    super(CONTRACTS.deviceProvenance);
  }

  /**
   * Alg. 2. metadataJson: { attributes, gatewayId?, firmwareHash? } as the caller believes them;
   * challengeHex: 16..64 random bytes the caller chose; responseHex: the device's
   * HMAC(K_chal, 'pv2:c' ‖ challenge). Returns { verdict: 'TRUE' | 'FALSE', ... }.
   */
  @StringParams('deviceId', 'metadataJson', 'challengeHex', 'responseHex')
  @Transaction(false)
  @Returns('string')
  async prove(ctx: Context, deviceId: string, metadataJson: string, challengeHex: string, responseHex: string): Promise<string> {
    const id = parseDeviceIdArg(deviceId);
    const challenge = Buffer.from(parseHexArg(challengeHex, 'challenge'), 'hex');
    if (challenge.length < MIN_CHALLENGE_BYTES || challenge.length > MAX_CHALLENGE_BYTES) {
      throw contractError(CONTRACT_ERRORS.BAD_INPUT, `challenge must be ${MIN_CHALLENGE_BYTES}..${MAX_CHALLENGE_BYTES} bytes`, {
        field: 'challenge',
      });
    }
    const response = Buffer.from(parseHexArg(responseHex, 'response'), 'hex');
    const config = await loadConfig(ctx);
    const presented = parseMetadata(metadataJson, config.schema);
    const record = await loadDevice(ctx, id);
    const keys = record === undefined ? undefined : await loadDeviceKeys(ctx, id);
    return canonicalJson(decideProve(id, record, keys?.kChal, presented, challenge, response));
  }
}
