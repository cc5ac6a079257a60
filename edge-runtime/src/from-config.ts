/**
 * Builds a running edge from a validated config: ledger client (embedded in-process or a remote
 * embedded ledger over HTTP), credential store, board links, runtime and HTTP API. This is what
 * `provenant edge --config FILE` runs, and what its tests start.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BindingInterface } from '@serialport/bindings-cpp';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { LedgerClient } from '../../ledger-bridge/client.js';
import { openLedgerClient } from '../../ledger-bridge/connect.js';
import { fromHex } from '../../shared/encoding/hex.js';
import { ProvenantError } from '../../shared/errors.js';
import { parsePolicy } from '../../shared/crypto/policy.js';
import { ready as bbsReady } from '../../shared/crypto/bbs.js';
import { buildApi } from './api/server.js';
import { secretFrom, type EdgeConfig } from './config.js';
import { BleLink } from './links/ble-link.js';
import type { BoardLink } from './links/link.js';
import { SerialLink } from './links/serial-link.js';
import { errorMessage, type Log } from './log.js';
import { EdgeRuntime } from './runtime.js';
import { wireChallengeCodec } from './session/challenge-codec.js';
import { CredentialStore } from './session/credentials.js';
import type { FollowedProvenance } from '../../ledger-bridge/audit.js';
import type { Validator } from './validation/validator.js';

/** A running edge. */
export interface RunningEdge {
  readonly runtime: EdgeRuntime;
  readonly api: FastifyInstance | undefined;
  /** http://host:port of the API, when enabled. */
  readonly url: string | undefined;
  /** The edge's provenance database (followed from the ledger), when enabled. */
  readonly provenance: FollowedProvenance | undefined;
  stop(): Promise<void>;
}

/** Reads the AA public key: hex, or issuer.public.json ({ pk }). */
function issuerPkOf(config: EdgeConfig): Uint8Array | undefined {
  const { issuerPk, issuerPkFile } = config.credentials;
  if (issuerPk) return fromHex(issuerPk);
  if (!issuerPkFile) return undefined;
  let text: string;
  try {
    text = readFileSync(issuerPkFile, 'utf8').trim();
  } catch (err) {
    throw new ProvenantError('PROV_ERR_CONFIG', `credentials.issuerPkFile: ${errorMessage(err)}`, { field: 'credentials.issuerPkFile' });
  }
  const hex = text.startsWith('{') ? String((JSON.parse(text) as { pk?: unknown }).pk ?? '') : text;
  if (!/^[0-9a-fA-F]{192}$/.test(hex))
    throw new ProvenantError('PROV_ERR_CONFIG', 'credentials.issuerPkFile: expected a 96-byte hex key or issuer.public.json', {
      field: 'credentials.issuerPkFile',
    });
  return fromHex(hex);
}

/** Opens the configured ledger client. */
export async function openLedger(config: EdgeConfig): Promise<LedgerClient> {
  const l = config.ledger;
  if (l.type === 'http')
    return openLedgerClient({
      type: 'http',
      url: l.url,
      token: secretFrom(l.token, l.tokenFile, 'ledger.token'),
      ...(l.identity ? { identity: l.identity } : {}),
    });
  return openLedgerClient(l);
}

/** The link for one configured board. */
export function linkFor(board: EdgeConfig['boards'][number], log: Log, binding?: BindingInterface): BoardLink {
  if ('serial' in board)
    return new SerialLink({ path: board.serial.path, baudRate: board.serial.baudRate, log, ...(binding ? { binding } : {}) });
  return new BleLink({ address: board.ble.address, log, ...(board.ble.scanTimeoutMs ? { scanTimeoutMs: board.ble.scanTimeoutMs } : {}) });
}

/** Starts everything the config describes. */
export async function startEdge(
  config: EdgeConfig,
  options: { log: Log; binding?: BindingInterface; ledger?: LedgerClient },
): Promise<RunningEdge> {
  const log = options.log;
  await bbsReady(); // credentials are BBS-verified as they load
  const issuerPk = issuerPkOf(config);
  if (!issuerPk) log.warn({}, 'no credentials.issuerPk: credentials are checked against their own issuer key only');
  const credentials = new CredentialStore(issuerPk);
  const { loaded, refused } = credentials.loadDirectory(config.credentials.dir);
  for (const r of refused) log.warn({ file: r.file, why: r.message }, 'credential refused');
  log.info({ loaded, refused: refused.length }, 'credentials loaded');
  const ledger = options.ledger ?? (await openLedger(config));
  const runtime = await EdgeRuntime.start({
    edgeId: config.edgeId,
    outboxPath: join(config.dataDir, 'outbox.db'),
    ledger,
    credentials,
    policy: parsePolicy(config.policy),
    epochMs: config.epochSeconds * 1000,
    profile: config.profile,
    outbox: {
      maxPending: config.outbox.maxPending,
      synchronous: config.outbox.synchronous,
      retainCommittedMs: config.outbox.retainCommittedHours * 3_600_000,
    },
    forwarder: {
      batchSize: config.outbox.batchSize,
      maxWaitMs: config.outbox.maxWaitMs,
      retryInitialMs: config.outbox.retryInitialMs,
      retryMaxMs: config.outbox.retryMaxMs,
    },
    traffic: config.traffic.enabled
      ? { windowMs: Math.round(config.traffic.windowSeconds * 1000), maxPerTransaction: config.traffic.maxProfilesPerTransaction }
      : false,
    challengeCodec: wireChallengeCodec,
    log,
  });
  for (const board of config.boards) {
    try {
      await runtime.attach(linkFor(board, log, options.binding), board.name !== undefined ? { name: board.name } : {});
    } catch (err) {
      // A BLE board without a radio must not stop the serial boards.
      log.error({ board: board.name, err: errorMessage(err) }, 'board link unavailable');
    }
  }
  // The edge's provenance database, filled by a follower of the ledger (docs/architecture.md).
  let provenance: FollowedProvenance | undefined;
  let retention: NodeJS.Timeout | undefined;
  if (config.provenance.enabled) {
    const { followProvenance } = await import('../../ledger-bridge/audit.js');
    provenance = await followProvenance(ledger, config.provenance.db, {
      name: `edge:${config.edgeId}`,
      fabric: config.ledger.type === 'fabric',
      log,
    });
    const days = config.provenance.retainDays;
    if (days > 0) {
      const p = provenance;
      retention = setInterval(() => {
        void p.prune(Date.now() - days * 86_400_000).catch((err: Error) => log.warn({ err: err.message }, 'provenance retention failed'));
      }, 3_600_000);
      retention.unref();
    }
    log.info({ db: provenance.location }, 'provenance database: following the ledger');
  }
  let validator: (Validator & { via: 'auditor' | 'edge' }) | undefined;
  if (config.auditor) {
    const { RemoteValidator } = await import('./validation/validator.js');
    validator = new RemoteValidator(
      config.auditor.url,
      secretFrom(config.auditor.token, config.auditor.tokenFile, 'auditor.token'),
      config.edgeId,
    );
  } else if (provenance) {
    const { LocalValidator } = await import('./validation/validator.js');
    validator = new LocalValidator(provenance, config.edgeId);
  }
  let api: FastifyInstance | undefined;
  let url: string | undefined;
  if (config.api.enabled) {
    // A real pino logger (provenant edge) also logs the API's requests; the silent stand-in does not.
    const pinoLike = typeof (log as { level?: unknown }).level === 'string';
    api = await buildApi(runtime, {
      token: secretFrom(config.api.token, config.api.tokenFile, 'api.token'),
      ...(pinoLike ? { loggerInstance: log as unknown as FastifyBaseLogger } : {}),
      ...(validator ? { validator } : {}),
      ...(provenance ? { provenance: { db: provenance.location, status: provenance.status } } : {}),
    });
    url = await api.listen({ host: config.api.host, port: config.api.port });
    log.info({ url }, 'edge API listening');
  }
  return {
    runtime,
    api,
    url,
    provenance,
    stop: async () => {
      await api?.close();
      await runtime.stop();
      if (retention) clearInterval(retention);
      await provenance?.close();
      if (!options.ledger) await ledger.close();
    },
  };
}
