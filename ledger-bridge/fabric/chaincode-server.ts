/**
 * Chaincode as a service: the four contracts served with fabric-shim's own chaincode server
 * (`shim.server(chaincode, { ccid, address, tlsProps })`), so a peer without Docker runs them
 * through an external builder whose connection.json points at this address. The peer dials us,
 * we answer with REGISTER, and from then on the conversation is fabric-shim's handler — the same
 * code path `fabric-chaincode-node server` uses, minus its package.json-based module loading.
 *
 * Node-only.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ProvenantError } from '../../shared/errors.js';

const require = createRequire(import.meta.url);

// fabric-shim brings its own @hyperledger/fabric-protos (0.2.x) next to fabric-gateway's (0.3.x).
// Both register their message classes in google-protobuf's global `proto` namespace, so in a
// process that loads both (a test that serves and calls in one process) the first one loaded must be fabric-shim's,
// or its stream serializer rejects its own messages. Load it when this module loads.
require('reflect-metadata');
// fabric-shim logs every call at info level; keep an operator's choice, default to warnings.
process.env.CORE_CHAINCODE_LOGGING_LEVEL ??= 'WARNING';
const shim = require('fabric-shim') as { server(cc: unknown, opts: unknown): ShimServer };
assertShimProtos();

/**
 * Fails loudly instead of with gRPC's "Error serializing response" when fabric-gateway's protos
 * were loaded first: then fabric-shim's `peer.ChaincodeMessage` is the other package's class and
 * its stream serializer rejects every message.
 */
function assertShimProtos(): void {
  const shimRequire = createRequire(require.resolve('fabric-shim'));
  const protosIndex = shimRequire.resolve('@hyperledger/fabric-protos');
  const index = shimRequire(protosIndex) as { peer: { ChaincodeMessage: unknown } };
  const own = shimRequire(protosIndex.replace(/index\.js$/, 'peer/chaincode_shim_pb.js')) as { ChaincodeMessage: unknown };
  if (index.peer.ChaincodeMessage !== own.ChaincodeMessage) {
    throw new Error(
      'fabric-shim cannot serve: @hyperledger/fabric-protos of fabric-gateway was loaded before fabric-shim in this process; import ledger-bridge/fabric/chaincode-server.js first (or run the chaincode server in its own process)',
    );
  }
}

/** A fabric-contract-api Contract class (constructor). */
export type ContractClass = new () => unknown;

/** Where and as what the chaincode server listens. */
export interface ChaincodeServerOptions {
  /** HOST:PORT to listen on, e.g. 0.0.0.0:9999 (connection.json's address must reach it). */
  readonly address: string;
  /** The package id the peer assigned at install (`label:sha256`); the peer checks it on REGISTER. */
  readonly chaincodeId: string;
  /** PEM files for TLS; key and cert together enable TLS, clientCaCert adds client-cert checking. */
  readonly tls?: { readonly keyPath: string; readonly certPath: string; readonly clientCaCertPath?: string };
  /** Contract classes to serve; default: the project's four contracts (ledger-bridge/contracts). */
  readonly contracts?: readonly ContractClass[];
}

/** A running chaincode server. */
export interface RunningChaincodeServer {
  /** The address it was asked to bind. */
  readonly address: string;
  /** The port actually bound (useful with port 0 in tests). */
  readonly port: number;
  /** Names of the contracts it serves (fabric-shim adds its own `org.hyperledger.fabric`). */
  readonly contractNames: readonly string[];
  /** Stops accepting calls and closes open streams. */
  close(): Promise<void>;
}

/** gRPC keepalive settings fabric-shim's own `server` command uses; the peer expects them. */
const GRPC_DEFAULTS = {
  'grpc.max_send_message_length': -1,
  'grpc.max_receive_message_length': -1,
  'grpc.keepalive_time_ms': 110_000,
  'grpc.http2.min_time_between_pings_ms': 110_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.http2.max_pings_without_data': 0,
  'grpc.keepalive_permit_without_calls': 1,
} as const;

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Checks HOST:PORT and returns the port (0 allowed: pick a free one). */
export function parseAddress(address: string): { host: string; port: number } {
  const m = ADDRESS.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65_535) {
    throw new ProvenantError('PROV_ERR_CONFIG', `chaincode server address must be HOST:PORT, got "${address}"`, {
      field: 'address',
    });
  }
  return { host: m[1] as string, port };
}

function readPem(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new ProvenantError('PROV_ERR_CONFIG', `cannot read ${field} file "${path}"`, { field, cause });
  }
}

/** Loads the project's four contracts lazily (ledger-bridge/contracts exports `contracts`). */
export async function loadProjectContracts(): Promise<ContractClass[]> {
  const mod = (await import('../contracts/index.js')) as { contracts?: readonly ContractClass[] };
  if (!Array.isArray(mod.contracts) || mod.contracts.length === 0) {
    throw new ProvenantError('PROV_ERR_CONFIG', 'ledger-bridge/contracts exports no `contracts` array');
  }
  return [...mod.contracts];
}

/**
 * fabric-contract-api learns each transaction's parameters from TypeScript's decorator metadata
 * (`design:paramtypes`). esbuild — hence tsx, which runs this CLI — does not emit that metadata,
 * so the contracts would register with zero parameters and every call with arguments would fail
 * ("Expected 0 parameters, but 1 have been supplied"). Where a transaction has no recorded
 * parameters but its function declares some, record them as strings (all our arguments are
 * strings), taking the names from the function's source as fabric-contract-api itself does.
 */
export function completeParameterMetadata(contracts: readonly ContractClass[]): void {
  const reflect = Reflect as unknown as {
    getMetadata(key: string, target: object): { name: string; parameters?: unknown[] }[] | undefined;
  };
  const getParams = createRequire(require.resolve('fabric-contract-api'))('get-params') as (fn: unknown) => string[];
  for (const cls of contracts) {
    const proto = cls.prototype as Record<string, unknown>;
    const txs = reflect.getMetadata('fabric:transactions', proto) ?? [];
    for (const tx of txs) {
      if (tx.parameters && tx.parameters.length > 0) continue;
      const names = getParams(proto[tx.name]).slice(1); // the first parameter is the context
      if (names.length === 0) continue;
      tx.parameters = names.map((name) => ({ name, description: '', schema: { type: 'string' } }));
    }
  }
}

/**
 * fabric-contract-api's JSONSerializer turns object results into JSON with class-transformer's
 * `classToPlain`; class-transformer 0.4.1 (what `^0.4.0` resolves to) was published with the 0.5
 * API, where that function no longer exists, so every object result — among them the system
 * contract's GetMetadata that `peer chaincode query` and our `chaincode check` use — fails with
 * "classToPlain is not a function". Our results are plain JSON values: serialize them with
 * JSON.stringify and leave everything else to the original.
 */
function plainJsonSerializer(Base: new () => { toBuffer(result: unknown, schema?: unknown, prefix?: unknown): Buffer | undefined }) {
  return class PlainJsonSerializer extends Base {
    override toBuffer(result: unknown, schema: { type?: string } = {}, loggerPrefix?: unknown): Buffer | undefined {
      const primitive = typeof result !== 'object' || result === null || schema.type === 'string' || schema.type === 'number';
      if (primitive) return super.toBuffer(result, schema, loggerPrefix);
      return Buffer.from(JSON.stringify(result));
    }
  };
}

/** A transaction's parameter as fabric-contract-api's metadata describes it. */
interface ParameterMetadata {
  readonly schema?: Record<string, unknown>;
}

/** fabric-shim's DataMarshall.handleParameters (contract-spi/datamarshall.js). */
type HandleParameters = (
  fn: { parameters?: readonly ParameterMetadata[] },
  parameters: readonly Buffer[],
  loggerPrefix?: string,
) => unknown[];

const FAST_PARAMETERS = Symbol.for('provenant.fastStringParameters');

/**
 * The arguments of a transaction whose parameters are all plain strings (schema exactly
 * `{ type: 'string' }`: every parameter of our contracts), decoded the way fabric-shim decodes
 * them — UTF-8 — without what its generic path does per call on top: JSON.stringify of each
 * argument for a schema validation that a string always passes, a second JSON.stringify for a
 * debug line built even when debug is off, and an ajv compile. For a recordBatch of a few thousand
 * readings the argument is hundreds of kilobytes, and that generic path was ~8 % of the chaincode
 * server's CPU (bench fabric, --cpu-prof). Any other parameter (a `$ref`, a number, a string with
 * a pattern), or a wrong count, takes fabric-shim's own path, with its errors.
 */
export function installFastStringParameters(): void {
  const DataMarshall = require('fabric-shim/lib/contract-spi/datamarshall.js') as {
    prototype: { handleParameters: HandleParameters & { [FAST_PARAMETERS]?: true } };
  };
  const original = DataMarshall.prototype.handleParameters;
  if (original[FAST_PARAMETERS]) return;
  const fast: HandleParameters & { [FAST_PARAMETERS]?: true } = function (this: unknown, fn, parameters, loggerPrefix) {
    const expected = fn.parameters;
    if (
      expected !== undefined &&
      expected.length === parameters.length &&
      expected.every((p) => p.schema !== undefined && p.schema.type === 'string' && Object.keys(p.schema).length === 1)
    )
      return parameters.map((b) => b.toString('utf8'));
    return original.call(this, fn, parameters, loggerPrefix);
  };
  fast[FAST_PARAMETERS] = true;
  DataMarshall.prototype.handleParameters = fast;
}

const EARLY_LEVELS = Symbol.for('provenant.dropDisabledLevelsEarly');

/**
 * fabric-shim and fabric-contract-api call `logger.debug(…)` several times per transaction; winston
 * runs every such message through the whole format pipeline (timestamp, metadata, colours,
 * padding, printf) and only its transport then drops it, below the configured level — ~10 % of
 * the chaincode server's CPU per recordBatch at level WARNING (bench fabric, --cpu-prof). Drop a
 * message no transport would write before it enters the pipeline (`isLevelEnabled`, winston's own
 * test, read at each call, so a level changed later still counts). What is written is unchanged.
 */
export function dropDisabledLogLevelsEarly(): void {
  const shimRequire = createRequire(require.resolve('fabric-shim'));
  const winston = shimRequire('winston') as {
    Logger: {
      prototype: {
        write: ((this: WinstonLogger, info: unknown, ...rest: unknown[]) => boolean) & { [EARLY_LEVELS]?: true };
      };
    };
  };
  const proto = winston.Logger.prototype;
  const original = proto.write;
  if (original[EARLY_LEVELS]) return;
  const LEVEL = Symbol.for('level');
  const write: typeof original = function (this: WinstonLogger, info, ...rest) {
    if (typeof info === 'object' && info !== null) {
      const level = (info as Record<symbol, unknown>)[LEVEL];
      if (typeof level === 'string' && this.levels?.[level] !== undefined && !this.isLevelEnabled(level)) return true;
    }
    return original.call(this, info, ...rest);
  };
  write[EARLY_LEVELS] = true;
  proto.write = write;
}

/** The part of a winston Logger dropDisabledLogLevelsEarly uses. */
interface WinstonLogger {
  readonly levels?: Record<string, number>;
  isLevelEnabled(level: string): boolean;
}

/** Wraps contract classes the way fabric-shim's bootstrap does (JSON serializer, introspected metadata). */
export function chaincodeFromContracts(
  contracts: readonly ContractClass[],
  title = 'provenant',
  version = '0.1.0',
): {
  chaincode: unknown;
  contractNames: string[];
} {
  const { JSONSerializer } = require('fabric-contract-api') as {
    JSONSerializer: new () => { toBuffer(result: unknown, schema?: unknown, prefix?: unknown): Buffer | undefined };
  };
  const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract.js') as new (
    classes: ContractClass[],
    serializers: unknown,
    metadata: unknown,
    title: string,
    version: string,
  ) => { contractImplementations: Record<string, unknown> };
  completeParameterMetadata(contracts);
  installFastStringParameters();
  dropDisabledLogLevelsEarly();
  const serializers = { transaction: 'jsonSerializer', serializers: { jsonSerializer: plainJsonSerializer(JSONSerializer) } };
  // fabric-shim appends its system contract to the array it is given: hand it a copy.
  const chaincode = new ChaincodeFromContract([...contracts], serializers, {}, title, version);
  const contractNames = Object.keys(chaincode.contractImplementations).filter((n) => n !== 'org.hyperledger.fabric');
  return { chaincode, contractNames };
}

/** Starts fabric-shim's chaincode server with our contracts; resolves once it listens. */
export async function startChaincodeServer(options: ChaincodeServerOptions): Promise<RunningChaincodeServer> {
  parseAddress(options.address);
  if (typeof options.chaincodeId !== 'string' || options.chaincodeId.trim() === '') {
    throw new ProvenantError('PROV_ERR_CONFIG', 'chaincode id is required (the package id from `peer lifecycle chaincode install`)', {
      field: 'id',
    });
  }
  const contracts = options.contracts ? [...options.contracts] : await loadProjectContracts();
  const { chaincode, contractNames } = chaincodeFromContracts(contracts);
  const serverOpts: Record<string, unknown> = { ...GRPC_DEFAULTS, ccid: options.chaincodeId, address: options.address };
  if (options.tls) {
    serverOpts.tlsProps = {
      key: readPem(options.tls.keyPath, 'tls-key'),
      cert: readPem(options.tls.certPath, 'tls-cert'),
      ...(options.tls.clientCaCertPath ? { clientCACerts: readPem(options.tls.clientCaCertPath, 'tls-client-ca') } : {}),
    };
  }
  const server = shim.server(chaincode, serverOpts);
  // fabric-shim's start() does not report the bound port; bind through its gRPC server so port 0 works.
  const port = await new Promise<number>((resolve, reject) => {
    server._server.bindAsync(options.address, server._credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  }).catch((cause: unknown) => {
    throw new ProvenantError('PROV_ERR_CONFIG', `chaincode server cannot listen on ${options.address}`, { cause });
  });
  return {
    address: options.address,
    port,
    contractNames,
    close: () =>
      new Promise<void>((resolve) => {
        // ChaincodeServer has no stop(); its gRPC server does. Give streams a moment, then force.
        const timer = setTimeout(() => server._server.forceShutdown(), 2_000);
        server._server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/** The parts of fabric-shim's ChaincodeServer (lib/server.js) this module reaches into. */
interface ShimServer {
  _server: {
    bindAsync(address: string, creds: unknown, cb: (err: Error | null, port: number) => void): void;
    tryShutdown(cb: () => void): void;
    forceShutdown(): void;
  };
  _credentials: unknown;
}
