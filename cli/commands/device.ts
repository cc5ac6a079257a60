/**
 * `provenant device configure|register|update|revoke|challenge|prove|show`: the Device Registration and
 * Device Provenance contracts (Algorithms 1 and 2) from the command line. The authority's files
 * come from `provenant authority init|enroll`; K_tag and K_chal travel in transient data, never as an
 * argument. Exit code of `prove`: 0 only for TRUE.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CONTRACTS, type LedgerClient } from '../../ledger-bridge/client.js';
import { ProvenantError } from '../../shared/errors.js';

interface LedgerOpts {
  ledger?: string;
  db?: string;
  tokenFile?: string;
  config?: string;
  identity: string;
  json?: boolean;
}

function bad(message: string, field: string): ProvenantError {
  return new ProvenantError('PROV_ERR_BAD_INPUT', message, { field });
}

function readJsonFile(path: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw bad(`cannot read ${what} ${path}: ${(err as Error).message}`, what);
  }
  try {
    const json = JSON.parse(text) as unknown;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
    return json as Record<string, unknown>;
  } catch (err) {
    throw bad(`${what} ${path} is not a JSON object: ${(err as Error).message}`, what);
  }
}

function withLedgerOptions(cmd: Command, identity: string): Command {
  return cmd
    .option('--ledger <url>', 'a running ledger (provenant ledger start), e.g. http://127.0.0.1:7050')
    .option('--db <path>', 'an embedded ledger file, opened in this process')
    .option('--token-file <file>', 'bearer token for --ledger (else env PROVENANT_LEDGER_TOKEN)')
    .option('-c, --config <file>', 'a Fabric network: the client config (docs/fabric.md), whose certificate is the identity')
    .option('--identity <name>', 'identity to act as (embedded ledger)', identity)
    .option('--json', 'print the contract result as JSON only');
}

async function withLedger<T>(opts: LedgerOpts, fn: (ledger: LedgerClient) => Promise<T>, create = false): Promise<T> {
  const { connectLedger } = await import('../../ledger-bridge/auditor/connect.js');
  const ledger = await connectLedger({
    identity: opts.identity,
    create,
    ...(opts.ledger ? { ledger: opts.ledger } : {}),
    ...(opts.db ? { db: opts.db } : {}),
    ...(opts.tokenFile ? { tokenFile: opts.tokenFile } : {}),
    ...(opts.config ? { fabricConfig: opts.config } : {}),
  });
  try {
    return await fn(ledger);
  } finally {
    await ledger.close();
  }
}

function print(opts: { json?: boolean }, human: string, result: unknown): void {
  if (!opts.json) process.stdout.write(`${human}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const decode = (b: Uint8Array): Record<string, unknown> => JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>;

/**
 * The ledger's deposit for a device: K_tag and K_chal derived from the K_IoT of its
 * `<ID>.device.json` (shared/crypto/domains.ts). K_IoT itself never leaves this process, and
 * K_maint (which unlocks the board) is never sent.
 */
async function depositOf(path: string, deviceId: string): Promise<{ kTag: Uint8Array; kChal: Uint8Array }> {
  const { ledgerKeys } = await import('../../shared/crypto/domains.js');
  const { sha256 } = await import('../../shared/crypto/sha256.js');
  return ledgerKeys(sha256, await kIotOf(path, deviceId));
}

/** K_IoT from a `<ID>.device.json` file (provenant authority enroll), checked against deviceId. */
async function kIotOf(path: string, deviceId: string): Promise<Uint8Array> {
  const { readDeviceFile } = await import('../authority-store.js');
  const file = readDeviceFile(path);
  if (file.deviceId !== deviceId) throw bad(`${path} is the device file of ${file.deviceId}, not ${deviceId}`, 'device-file');
  return file.kIoT;
}

/** The registration JSON with --gateway / --firmware-hash applied. */
function registrationOf(path: string, opts: { gateway?: string; firmwareHash?: string }): Record<string, unknown> {
  const reg = readJsonFile(path, 'registration');
  if (typeof reg['deviceId'] !== 'string')
    throw bad(`${path}: "deviceId" missing (expected the <ID>.registration.json of provenant authority enroll)`, 'registration');
  if (opts.firmwareHash !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.firmwareHash))
    throw bad('--firmware-hash must be 64 hex digits (SHA-256)', 'firmware-hash');
  return {
    ...reg,
    ...(opts.gateway !== undefined ? { gatewayId: opts.gateway } : {}),
    ...(opts.firmwareHash !== undefined ? { firmwareHash: opts.firmwareHash.toLowerCase() } : {}),
  };
}

/** Registers the `device` command group. */
export function register(program: Command): void {
  const device = program.command('device').description('device registry and identity proofs on the ledger (Algorithms 1 and 2)');

  withLedgerOptions(
    device
      .command('configure')
      .description('one-time ledger setup by the attribute authority: issuer public key, schema and accepted policies')
      .requiredOption('--authority <dir>', 'authority directory (provenant authority init)')
      .option('--policy <file...>', 'policy JSON files { id, anyOf: [{ attr: value, ... }] } the ledger accepts partial signatures for'),
    'aa',
  ).action(async (opts: LedgerOpts & { authority: string; policy?: string[] }) => {
    const { loadIssuerPublic } = await import('../authority-store.js');
    const issuer = loadIssuerPublic(opts.authority);
    const policies = (opts.policy ?? []).map((p) => readJsonFile(p, 'policy'));
    const config = { issuerPk: Buffer.from(issuer.pk).toString('hex'), schema: issuer.schema, policies };
    // The one command that may start a new embedded ledger file.
    const r = await withLedger(
      opts,
      (l) => l.submit({ contract: CONTRACTS.deviceRegistration, fn: 'configure', args: [JSON.stringify(config)] }),
      true,
    );
    print(
      opts,
      `ledger configured in tx ${r.txId} (block ${r.blockNumber}): schema ${issuer.schema.join(',')}, ${policies.length} policies`,
      { ...decode(r.result), blockNumber: r.blockNumber },
    );
  });

  withLedgerOptions(
    device
      .command('register')
      .description(
        'register a new device (Alg. 1, new): prints txId and bcId; K_tag and K_chal (derived from K_IoT) go to the private collection via transient data',
      )
      .requiredOption('--registration <file>', '<ID>.registration.json from provenant authority enroll')
      .requiredOption(
        '--device-file <file>',
        '<ID>.device.json holding K_IoT (only its derived K_tag and K_chal are sent, as transient data)',
      )
      .option('--gateway <edgeId>', 'the edge the device talks through')
      .option('--firmware-hash <hex>', 'SHA-256 of the firmware image'),
    'aa',
  ).action(async (opts: LedgerOpts & { registration: string; deviceFile: string; gateway?: string; firmwareHash?: string }) => {
    const reg = registrationOf(opts.registration, opts);
    const deposit = await depositOf(opts.deviceFile, reg['deviceId'] as string);
    const r = await withLedger(opts, (l) =>
      l.submit({ contract: CONTRACTS.deviceRegistration, fn: 'register', args: [JSON.stringify(reg)], transient: deposit }),
    );
    const result: Record<string, unknown> = { ...decode(r.result), blockNumber: r.blockNumber };
    print(
      opts,
      `registered ${String(result['deviceId'])}: txId ${r.txId}, bcId ${String(result['bcId'])} (block ${r.blockNumber})`,
      result,
    );
  });

  withLedgerOptions(
    device
      .command('update')
      .description('update a registered device (Alg. 1, update; the previous version stays in the history)')
      .requiredOption('--registration <file>', 'registration JSON with the new attributes')
      .option('--device-file <file>', 'a new K_IoT to rotate to (its K_tag and K_chal go as transient data)')
      .option('--gateway <edgeId>', 'the edge the device talks through')
      .option('--firmware-hash <hex>', 'SHA-256 of the firmware image'),
    'aa',
  ).action(async (opts: LedgerOpts & { registration: string; deviceFile?: string; gateway?: string; firmwareHash?: string }) => {
    const reg = registrationOf(opts.registration, opts);
    const deposit = opts.deviceFile !== undefined ? await depositOf(opts.deviceFile, reg['deviceId'] as string) : undefined;
    const r = await withLedger(opts, (l) =>
      l.submit({
        contract: CONTRACTS.deviceRegistration,
        fn: 'update',
        args: [JSON.stringify(reg)],
        ...(deposit ? { transient: deposit } : {}),
      }),
    );
    const result: Record<string, unknown> = { ...decode(r.result), blockNumber: r.blockNumber };
    print(opts, `updated ${String(result['deviceId'])} to version ${String(result['version'])}: txId ${r.txId}`, result);
  });

  withLedgerOptions(
    device
      .command('revoke')
      .description('revoke a device: its readings are refused from now on')
      .requiredOption('--device <id>', 'deviceId')
      .option('--reason <text>', 'why (kept on the ledger)', ''),
    'aa',
  ).action(async (opts: LedgerOpts & { device: string; reason: string }) => {
    const r = await withLedger(opts, (l) =>
      l.submit({ contract: CONTRACTS.deviceRegistration, fn: 'revoke', args: [opts.device, opts.reason] }),
    );
    print(opts, `revoked ${opts.device}: txId ${r.txId}`, { ...decode(r.result), blockNumber: r.blockNumber });
  });

  withLedgerOptions(
    device
      .command('whoami')
      .description(
        "the caller's ledger identity { mspId, id, edgeId } as the contracts see it (give it to the authority to be registered as an edge)",
      ),
    'edge-1',
  ).action(async (opts: LedgerOpts) => {
    const bytes = await withLedger(opts, (l) => l.evaluate({ contract: CONTRACTS.deviceRegistration, fn: 'whoami', args: [] }));
    const result = decode(bytes);
    print(
      opts,
      `${String(result['mspId'])} ${String(result['id'])}${result['edgeId'] ? ` acts as edge ${String(result['edgeId'])}` : ' (no registered edge)'}`,
      result,
    );
  });

  withLedgerOptions(
    device
      .command('register-edge')
      .description(
        'the edge registry (authority only): bind an edge identity (MSP id + client id) to an edgeId; again with a new identity re-binds it',
      )
      .requiredOption('--edge <edgeId>', 'the edgeId (what devices name as their gateway)')
      .option('--whoami <file>', 'the JSON `provenant device whoami --json` printed on the edge')
      .option('--msp-id <mspId>', "the edge identity's MSP id (instead of --whoami)")
      .option('--client-id <id>', "the edge identity's client id, x509::<subject>::<issuer> (instead of --whoami)"),
    'aa',
  ).action(async (opts: LedgerOpts & { edge: string; whoami?: string; mspId?: string; clientId?: string }) => {
    let mspId = opts.mspId;
    let id = opts.clientId;
    if (opts.whoami !== undefined) {
      const who = readJsonFile(opts.whoami, 'whoami');
      mspId = typeof who['mspId'] === 'string' ? who['mspId'] : undefined;
      id = typeof who['id'] === 'string' ? who['id'] : undefined;
    }
    if (mspId === undefined || id === undefined)
      throw bad('give --whoami FILE, or --msp-id and --client-id, naming the identity that acts as the edge', 'whoami');
    const r = await withLedger(opts, (l) =>
      l.submit({ contract: CONTRACTS.deviceRegistration, fn: 'registerEdge', args: [JSON.stringify({ edgeId: opts.edge, mspId, id })] }),
    );
    const result: Record<string, unknown> = { ...decode(r.result), blockNumber: r.blockNumber };
    print(opts, `edge ${opts.edge} is ${mspId} ${id} (version ${String(result['version'])}): txId ${r.txId}`, result);
  });

  withLedgerOptions(
    device
      .command('revoke-edge')
      .description('revoke an edge (authority only): it can no longer record readings or traffic profiles')
      .requiredOption('--edge <edgeId>', 'edgeId')
      .option('--reason <text>', 'why (kept on the ledger)', ''),
    'aa',
  ).action(async (opts: LedgerOpts & { edge: string; reason: string }) => {
    const r = await withLedger(opts, (l) =>
      l.submit({ contract: CONTRACTS.deviceRegistration, fn: 'revokeEdge', args: [opts.edge, opts.reason] }),
    );
    print(opts, `revoked edge ${opts.edge}: txId ${r.txId}`, { ...decode(r.result), blockNumber: r.blockNumber });
  });

  withLedgerOptions(
    device
      .command('show')
      .description("a device's registry record (with --history: every version)")
      .requiredOption('--device <id>', 'deviceId')
      .option('--history', 'every version, oldest first'),
    'auditor',
  ).action(async (opts: LedgerOpts & { device: string; history?: boolean }) => {
    const bytes = await withLedger(opts, (l) =>
      l.evaluate({ contract: CONTRACTS.deviceRegistration, fn: opts.history ? 'history' : 'get', args: [opts.device] }),
    );
    const result = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    print(opts, JSON.stringify(result, null, 2), result);
  });

  withLedgerOptions(
    device
      .command('challenge')
      .description(
        'a fresh Device Provenance challenge from the ledger (Alg. 2), issued to this identity, to be answered once before it expires',
      )
      .requiredOption('--device <id>', 'deviceId'),
    'auditor',
  ).action(async (opts: LedgerOpts & { device: string }) => {
    const r = await withLedger(opts, (l) => l.submit({ contract: CONTRACTS.deviceProvenance, fn: 'issueChallenge', args: [opts.device] }));
    const result = decode(r.result);
    print(
      opts,
      `challenge ${String(result['challenge'])} for device ${opts.device}, expires ${new Date(Number(result['expiresAt'])).toISOString()}`,
      result,
    );
  });

  withLedgerOptions(
    device
      .command('prove')
      .description(
        'device identity proof (Alg. 2): TRUE / FALSE, or "could not find the device" / "device signature mismatch"; exit 0 only for TRUE',
      )
      .requiredOption('--device <id>', 'deviceId')
      .option(
        '--metadata <file>',
        'metadata to prove: the <ID>.registration.json of `authority enroll`, or JSON { attributes, gatewayId?, firmwareHash? }',
      )
      .option('--gateway <edgeId>', "present this gatewayId instead of the file's")
      .option('--firmware-hash <hex>', "present this firmwareHash instead of the file's")
      .option('--port <path>', 'ask the board on this serial port to answer (USB, adapter, pty)')
      .option(
        '--device-file <file>',
        'answer the challenge here with the K_IoT of this device file (bench or test; a real device answers itself)',
      )
      .option('--challenge <hex>', 'a challenge `device challenge` gave this identity (default: a fresh one from the ledger)')
      .option('--response <hex>', "the device's answer HMAC(K_chal, 'pv2:c' ‖ challenge) to --challenge"),
    'auditor',
  ).action(
    async (
      opts: LedgerOpts & {
        device: string;
        metadata?: string;
        gateway?: string;
        firmwareHash?: string;
        port?: string;
        deviceFile?: string;
        challenge?: string;
        response?: string;
      },
    ) => {
      if (opts.metadata === undefined) throw bad('--metadata FILE is required: the metadata whose identity is to be proven', 'metadata');
      const { metadataArg, metadataFromRegistration } = await import('../../shared/device-metadata.js');
      const metadata = metadataFromRegistration(
        readJsonFile(opts.metadata, 'metadata'),
        {
          ...(opts.gateway !== undefined ? { gatewayId: opts.gateway } : {}),
          ...(opts.firmwareHash !== undefined ? { firmwareHash: opts.firmwareHash } : {}),
        },
        opts.metadata,
      );
      if (opts.challenge !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.challenge))
        throw bad('--challenge must be the 32 bytes of hex `device challenge` printed', 'challenge');
      if ((opts.challenge === undefined) !== (opts.response === undefined))
        throw bad('--challenge and --response go together (the answer to a challenge `device challenge` gave)', 'response');
      if (opts.response !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.response))
        throw bad('--response must be 32 bytes of hex', 'response');
      if (opts.response === undefined && opts.deviceFile === undefined && opts.port === undefined)
        throw bad('give --port PATH (the board answers), --device-file FILE, or --challenge HEX --response HEX', 'response');
      const result = await withLedger(opts, async (l) => {
        let challenge: Buffer;
        if (opts.challenge !== undefined) challenge = Buffer.from(opts.challenge, 'hex');
        else {
          const issued = await l.submit({ contract: CONTRACTS.deviceProvenance, fn: 'issueChallenge', args: [opts.device] });
          challenge = Buffer.from(String(decode(issued.result)['challenge']), 'hex');
        }
        let response: Uint8Array;
        if (opts.response !== undefined) response = Buffer.from(opts.response, 'hex');
        else if (opts.port !== undefined) {
          const { askBoard } = await import('../../hardware/challenge.js');
          response = await askBoard(opts.port, challenge);
        } else {
          const { deviceChallengeResponse } = await import('../../shared/crypto/outsourced.js');
          const { sha256 } = await import('../../shared/crypto/sha256.js');
          response = deviceChallengeResponse(sha256, await kIotOf(opts.deviceFile as string, opts.device), challenge);
        }
        const r = await l.submit({
          contract: CONTRACTS.deviceProvenance,
          fn: 'prove',
          args: [opts.device, metadataArg(metadata), challenge.toString('hex'), Buffer.from(response).toString('hex')],
        });
        return decode(r.result);
      });
      const diff =
        Array.isArray(result['differences']) && result['differences'].length > 0
          ? ` (differs: ${(result['differences'] as string[]).join(', ')})`
          : '';
      print(
        opts,
        `${String(result['verdict'])}${result['reason'] ? ` ${String(result['reason'])}` : ''}${diff}: device ${opts.device}, bcId ${String(result['bcId'])}`,
        result,
      );
      process.exitCode = result['verdict'] === 'TRUE' ? 0 : 1;
    },
  );
}
