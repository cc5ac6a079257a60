/**
 * A REAL Hyperledger Fabric network for tests: Fabric 2.4.9's orderer and peer, started as plain
 * processes by the kit in ../shared/tools/fabric (up.sh / deploy-ccaas.sh / down.sh, see its
 * README), on free ports in a temp FABNET_DIR, so several networks (other test runs, other
 * checkouts) can run on one machine at once. Nothing here imitates Fabric.
 *
 * - `FabricTestNetwork.start()` brings a network up (about 8-30 s); `stop()` runs down.sh, which
 *   also stops every chaincode server recorded under run/.
 * - `startProvenantChaincode()` deploys Provenant's chaincode under a unique label (so test files
 *   sharing a network never share state) and serves it with `provenant chaincode serve` in its own
 *   process (chaincode as a service; the peer dials it).
 * - `identity(name)` issues another client identity of Org1, signed by Org1's CA (low-S), so a
 *   test can act as several distinct X.509 identities (authority, edge-1, edge-2, auditor).
 * - `stopNode` / `startNode` kill and restart the orderer or the peer with the same settings, for
 *   fault tests.
 *
 * The kit is found at FABRIC_KIT_DIR, else `<repo>/../shared/tools/fabric`, else (in a git
 * worktree) `<main checkout>/../shared/tools/fabric`. Where it is absent, `fabricKitMissing()`
 * says why and the tests skip, printing that reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FabricConfig } from '../../../ledger-bridge/fabric/config.js';
import { issueOrgIdentity, type OrgIdentity } from './identity.js';

/** The repository this file belongs to. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = join(REPO, 'bin', 'provenant.js');
/** The deploy kit's private data collection for K_IoT, and the endorsement policy docs/fabric.md gives. */
export const COLLECTIONS_CONFIG = join(REPO, 'deploy', 'fabric', 'config', 'collections_config.json');
export const ORG1_PEER_POLICY = "OR('Org1MSP.peer')";

const BINARIES = ['peer', 'orderer', 'configtxgen', 'cryptogen', 'osnadmin'];

/** The main checkout of a git worktree (its .git file points into <main>/.git/worktrees/<name>). */
function mainCheckoutOf(repo: string): string | undefined {
  try {
    const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(join(repo, '.git'), 'utf8'));
    const gitdir = m?.[1]?.trim();
    if (!gitdir) return undefined;
    const wt = /^(.*)[/\\]\.git[/\\]worktrees[/\\][^/\\]+$/.exec(resolve(repo, gitdir));
    return wt?.[1];
  } catch {
    return undefined; // .git is a folder (main checkout) or absent (an unpacked tarball)
  }
}

/** Candidate kit folders, in the order they are tried. */
export function fabricKitCandidates(): string[] {
  const env = process.env.FABRIC_KIT_DIR;
  if (env) return [resolve(env)];
  const out = [resolve(REPO, '..', 'shared', 'tools', 'fabric')];
  const main = mainCheckoutOf(REPO);
  if (main) out.push(resolve(main, '..', 'shared', 'tools', 'fabric'));
  return out;
}

/** The kit folder, or undefined. */
export function fabricKitDir(): string | undefined {
  return fabricKitCandidates().find((d) => existsSync(join(d, 'up.sh')) && BINARIES.every((b) => existsSync(join(d, 'bin', b))));
}

/** Why Fabric tests cannot run here (no kit, or a tool it needs), or undefined when they can. */
export function fabricKitMissing(): string | undefined {
  if (process.platform !== 'linux') return `the Fabric kit's binaries are x86-64 Linux builds; this is ${process.platform}`;
  const kit = fabricKitDir();
  if (!kit)
    return `no Fabric kit (up.sh + bin/{${BINARIES.join(',')}}) at ${fabricKitCandidates().join(' or ')}; set FABRIC_KIT_DIR to run the Fabric tests`;
  return undefined;
}

/** A free TCP port on 127.0.0.1 (bound and released; the caller binds it soon after). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** Runs a command, collects its output; rejects with the output's tail on a non-zero exit. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, opts: { cwd?: string } = {}): Promise<{ out: string; err: string }> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', rej);
    child.once('exit', (code, signal) => {
      if (code === 0) res({ out, err });
      else rej(new Error(`${[cmd, ...args].join(' ')} exited with ${code ?? signal}\n${err.slice(-4000)}${out.slice(-1000)}`));
    });
  });
}

/** Parses KEY=VALUE lines (network.env, chaincode.env); strips `export ` and double quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    out[m[1] as string] = (m[2] as string).replace(/^"(.*)"$/, '$1');
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it is true; throws `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return r.ok;
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What a worker needs to use a network another process started (serializable). */
export interface NetworkInfo {
  readonly kit: string;
  readonly dir: string;
  /** network.env as written by up.sh (ports, channel, crypto paths). */
  readonly env: Readonly<Record<string, string>>;
}

/** Options of `FabricTestNetwork.start`. */
export interface StartOptions {
  /** FABNET_DIR; default a fresh mkdtemp under the OS temp dir (kept after stop for its logs only when `keep`). */
  readonly dir?: string;
  /** Orderer BatchTimeout (Fabric's default 2s; tests use less so a lone transaction commits sooner). */
  readonly batchTimeout?: string;
  readonly maxMessageCount?: number;
  /** External builders (JSON list as in core.yaml); default: the project's deploy/fabric/builder. */
  readonly externalBuilders?: readonly { name: string; path: string; propagateEnvironment?: string[] }[];
  readonly log?: (line: string) => void;
}

/** The project's own external builder, as docs/fabric.md §2 installs it. */
export const PROJECT_BUILDER = { name: 'provenant_ccaas', path: join(REPO, 'deploy', 'fabric', 'builder'), propagateEnvironment: [] };

/** A deployed chaincode served by a process this module started. */
export interface ChaincodeProcess {
  /** Chaincode name = package label. */
  readonly label: string;
  readonly packageId: string;
  /** host:port the peer dials (connection.json). */
  readonly address: string;
  readonly logPath: string;
  /** The server's pid while it runs. */
  pid(): number | undefined;
  /** Starts the server again (after `kill`) at the same address with the same id; resolves once it listens. */
  start(): Promise<void>;
  /** Sends `signal` and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Options of `startChaincode`. */
export interface ChaincodeOptions {
  /** Label prefix; a random suffix makes it unique on the network. */
  readonly name?: string;
  /** Serve the `contracts` export of this module instead of Provenant's four contracts. */
  readonly contractsModule?: string;
  /** Private data collections file; default the deploy kit's (K_IoT), `false` for none. */
  readonly collections?: string | false;
  /** Endorsement (signature) policy; default OR('Org1MSP.peer'). */
  readonly policy?: string;
  /** Extra environment for the server process. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A real Fabric network (orderer + peer + channel) in a FABNET_DIR. */
export class FabricTestNetwork {
  readonly kit: string;
  readonly dir: string;
  readonly env: Readonly<Record<string, string>>;
  /** Whether this object started the network (and so may stop it). */
  readonly owned: boolean;
  private readonly servers = new Set<ChaincodeProcess>();
  private identitiesDir: string | undefined;

  private constructor(info: NetworkInfo, owned: boolean) {
    this.kit = info.kit;
    this.dir = info.dir;
    this.env = info.env;
    this.owned = owned;
  }

  /** Uses a network another process started (e.g. vitest's global setup). */
  static attach(info: NetworkInfo): FabricTestNetwork {
    return new FabricTestNetwork(info, false);
  }

  /** The shared network of this test run when one is offered, else a network of this caller's own. */
  static async shared(): Promise<FabricTestNetwork> {
    const { sharedNetworkInfo } = await import('./shared.js');
    const info = await sharedNetworkInfo();
    return info ? FabricTestNetwork.attach(info) : FabricTestNetwork.start();
  }

  /** Starts a new network on free ports; retries with other ports if one was taken meanwhile. */
  static async start(options: StartOptions = {}): Promise<FabricTestNetwork> {
    const kit = fabricKitDir();
    if (!kit) throw new Error(fabricKitMissing());
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'provenant-fabnet-'));
    const builders = options.externalBuilders ?? [PROJECT_BUILDER];
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const [o, oa, oo, p, pc, po] = await Promise.all(Array.from({ length: 6 }, freePort));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        FABNET_DIR: dir,
        ORDERER_PORT: String(o),
        ORDERER_ADMIN_PORT: String(oa),
        ORDERER_OPS_PORT: String(oo),
        PEER_PORT: String(p),
        PEER_CC_PORT: String(pc),
        PEER_OPS_PORT: String(po),
        FABNET_BATCH_TIMEOUT: options.batchTimeout ?? '100ms',
        FABNET_MAX_MESSAGE_COUNT: String(options.maxMessageCount ?? 10),
        FABNET_EXTERNAL_BUILDERS: JSON.stringify(builders),
      };
      const t0 = Date.now();
      try {
        await run('bash', [join(kit, 'up.sh')], env);
        const info: NetworkInfo = { kit, dir, env: parseEnvFile(readFileSync(join(dir, 'network.env'), 'utf8')) };
        options.log?.(`fabric network up in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${dir} (peer ${info.env.PEER_ENDPOINT})`);
        return new FabricTestNetwork(info, true);
      } catch (err) {
        lastError = err;
        // Two failures are worth a new attempt (up.sh stops what it started and wipes its state):
        // a port taken between picking and binding, and — on a loaded machine — `peer channel
        // join` dialling the peer after its /healthz answers but before its gRPC server listens.
        const text = String(err);
        if (!/already in use|peer channel join failed|connection refused/.test(text)) break;
        options.log?.(`up.sh failed (attempt ${attempt + 1} of 3), retrying: ${/ERROR: (.*)/.exec(text)?.[1] ?? text.slice(0, 200)}`);
      }
    }
    throw lastError;
  }

  /** Serializable description, for `attach` in another process. */
  get info(): NetworkInfo {
    return { kit: this.kit, dir: this.dir, env: this.env };
  }
  get channel(): string {
    return this.env.CHANNEL_NAME as string;
  }
  get peerEndpoint(): string {
    return this.env.PEER_ENDPOINT as string;
  }
  /** User1@org1 (cryptogen's): a client of Org1. */
  get user1(): { mspId: string; certPath: string; keyPath: string } {
    return {
      mspId: this.env.ORG1_MSP_ID as string,
      certPath: this.env.ORG1_USER_CERT as string,
      keyPath: this.env.ORG1_USER_KEY as string,
    };
  }
  /** Admin@org1 (cryptogen's). */
  get admin(): { mspId: string; certPath: string; keyPath: string } {
    return {
      mspId: this.env.ORG1_MSP_ID as string,
      certPath: this.env.ORG1_ADMIN_CERT as string,
      keyPath: this.env.ORG1_ADMIN_KEY as string,
    };
  }

  /**
   * Issues a new client identity of Org1 (OU=client, or OU=admin), signed by Org1's CA with a
   * low-S signature, into a private folder of this process. Same name twice gives two different
   * identities (new key, new serial); use one per actor.
   */
  identity(name: string, role: 'client' | 'admin' = 'client'): OrgIdentity {
    this.identitiesDir ??= mkdtempSync(join(this.dir, 'identities-'));
    const org = join(this.env.CRYPTO as string, 'peerOrganizations', 'org1.example.com');
    const ca = {
      mspId: this.env.ORG1_MSP_ID as string,
      domain: 'org1.example.com',
      caCertPath: join(org, 'ca', 'ca.org1.example.com-cert.pem'),
      caKeyPath: join(org, 'ca', 'priv_sk'),
    };
    return issueOrgIdentity(ca, readFileSync(ca.caCertPath), readFileSync(ca.caKeyPath), this.identitiesDir, name, role);
  }

  /** A FabricLedgerClient config for `who` (default User1) on chaincode `chaincode`. */
  clientConfig(
    chaincode: string,
    who: { mspId: string; certPath: string; keyPath: string } = this.user1,
    extra: Partial<FabricConfig> = {},
  ): FabricConfig {
    return {
      peerEndpoint: this.peerEndpoint,
      tlsCaCertPath: this.env.PEER_TLS_CA as string,
      hostNameOverride: this.env.PEER_HOST_ALIAS as string,
      mspId: who.mspId,
      certPath: who.certPath,
      keyPath: who.keyPath,
      channel: this.channel,
      chaincode,
      ...extra,
    };
  }

  /** Environment for the peer CLI as Org1's admin (what docs/fabric.md calls "the peer CLI set up for an admin"). */
  peerCliEnv(): Record<string, string> {
    return {
      PATH: `${join(this.kit, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: process.env.HOME ?? tmpdir(),
      FABRIC_CFG_PATH: join(this.dir, 'config', 'peer'),
      CORE_PEER_LOCALMSPID: this.env.ORG1_MSP_ID as string,
      CORE_PEER_MSPCONFIGPATH: this.env.ORG1_ADMIN_MSP as string,
      CORE_PEER_ADDRESS: this.peerEndpoint,
      CORE_PEER_TLS_ENABLED: 'true',
      CORE_PEER_TLS_ROOTCERT_FILE: this.env.PEER_TLS_CA as string,
      FABRIC_LOGGING_SPEC: 'WARNING',
    };
  }

  /**
   * The environment docs/fabric.md §1 asks an operator to set: the peer CLI as Org1's admin plus
   * CHANNEL, ORDERER, ORDERER_CA, PEER and PEER_TLS_CA (also what `bench fabric --deploy` reads).
   */
  operatorEnv(): Record<string, string> {
    return {
      ...this.peerCliEnv(),
      FABNET_DIR: this.dir,
      CHANNEL: this.channel,
      ORDERER: `127.0.0.1:${this.env.ORDERER_PORT}`,
      ORDERER_CA: this.env.ORDERER_TLS_CA as string,
      PEER: this.peerEndpoint,
      PEER_TLS_CA: this.env.PEER_TLS_CA as string,
    };
  }

  /** Runs the kit's deploy-ccaas.sh: package, install, approve, commit. Returns the package id. */
  async deploy(label: string, address: string, opts: { collections?: string | false; policy?: string } = {}): Promise<string> {
    const collections = opts.collections === undefined ? COLLECTIONS_CONFIG : opts.collections;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FABNET_DIR: this.dir,
      CC_SIGNATURE_POLICY: opts.policy ?? ORG1_PEER_POLICY,
      ...(collections ? { CC_COLLECTIONS_CONFIG: collections } : {}),
    };
    const { out } = await run('bash', [join(this.kit, 'deploy-ccaas.sh'), label, address], env);
    const id = parseEnvFile(out).PACKAGE_ID;
    if (!id) throw new Error(`deploy-ccaas.sh printed no PACKAGE_ID:\n${out}`);
    return id;
  }

  /**
   * Deploys a chaincode under a unique label and serves it with `provenant chaincode serve` in a
   * child process (recorded under run/ so down.sh stops it too). Resolves once the server listens.
   * The server's port is picked free (freePort) but bound only after the deploy, seconds later:
   * a server that then finds it taken (EADDRINUSE) is deployed again on another port, up to three
   * times.
   */
  async startChaincode(opts: ChaincodeOptions = {}): Promise<ChaincodeProcess> {
    for (let attempt = 1; ; attempt++) {
      const handle = await this.deployChaincode(opts);
      try {
        await handle.start();
      } catch (err) {
        const log = existsSync(handle.logPath) ? readFileSync(handle.logPath, 'utf8') : '';
        if (attempt < 3 && /EADDRINUSE|address already in use/.test(log)) continue;
        throw err;
      }
      this.servers.add(handle);
      return handle;
    }
  }

  /** Deploys a chaincode under a unique label, on a port picked free, and returns its (not yet started) server. */
  private async deployChaincode(opts: ChaincodeOptions): Promise<ChaincodeProcess> {
    const label = `${(opts.name ?? 'prov').replace(/[^A-Za-z0-9]/g, '')}-${randomBytes(4).toString('hex')}`;
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const packageId = await this.deploy(label, address, {
      ...(opts.collections !== undefined ? { collections: opts.collections } : {}),
      ...(opts.policy ? { policy: opts.policy } : {}),
    });
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    const logPath = join(this.dir, 'logs', `cc-${label}.log`);
    const pidFile = join(this.dir, 'run', `cc-${label}.pid`);
    let child: ChildProcess | undefined;
    let exited: Promise<void> = Promise.resolve();
    const args = [CLI, 'chaincode', 'serve', '--address', address, '--id', packageId];
    if (opts.contractsModule) args.push('--contracts-module', opts.contractsModule);
    const handle: ChaincodeProcess = {
      label,
      packageId,
      address,
      logPath,
      pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
      start: async () => {
        if (handle.pid() !== undefined) return;
        const c = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
        child = c;
        exited = new Promise((r) => c.once('exit', () => r()));
        writeFileSync(pidFile, `${c.pid}\n`);
        writeFileSync(join(this.dir, 'run', `cc-${label}.exe`), `${realpathSync(process.execPath)}\n`);
        let seen = '';
        await new Promise<void>((res, rej) => {
          const onExit = (code: number | null): void => rej(new Error(`chaincode server ${label} exited with ${code}; see ${logPath}`));
          c.once('exit', onExit);
          const log = (d: Buffer): void => {
            appendFileSync(logPath, d);
            if (seen.length < 4096) {
              seen += d.toString();
              if (seen.includes('chaincode server listening')) {
                seen = 'x'.repeat(4096);
                c.off('exit', onExit);
                res();
              }
            }
          };
          c.stdout?.on('data', log);
          c.stderr?.on('data', (d: Buffer) => appendFileSync(logPath, d));
        });
      },
      kill: async (signal: NodeJS.Signals = 'SIGTERM') => {
        const c = child;
        if (!c || handle.pid() === undefined) return;
        c.kill(signal);
        await exited;
        rmSync(pidFile, { force: true });
      },
    };
    return handle;
  }

  /** Stops every chaincode server this object started. */
  async stopChaincodes(): Promise<void> {
    await Promise.all([...this.servers].map((s) => s.kill('SIGTERM')));
    this.servers.clear();
  }

  private pidOf(node: 'peer' | 'orderer'): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dir, 'run', `${node}.pid`), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 && pidAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether the orderer / peer process runs. */
  nodeRunning(node: 'peer' | 'orderer'): boolean {
    return this.pidOf(node) !== undefined;
  }

  /** Sends `signal` to the orderer or the peer (by its recorded pid) and waits until it is gone. */
  async stopNode(node: 'peer' | 'orderer', signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.assertOwned(`stop the ${node}`);
    const pid = this.pidOf(node);
    if (pid === undefined) return;
    process.kill(pid, signal);
    await waitFor(`${node} (pid ${pid}) to exit`, () => !pidAlive(pid), 30_000, 50);
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) the orderer or the peer: a hung node, not a dead one. */
  freezeNode(node: 'peer' | 'orderer', frozen: boolean): void {
    this.assertOwned(`${frozen ? 'freeze' : 'thaw'} the ${node}`);
    const pid = this.pidOf(node);
    if (pid === undefined) throw new Error(`${node} is not running`);
    process.kill(pid, frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  /**
   * Starts the orderer or the peer again with the settings up.sh gave it (config/<node>.env, under
   * `env -i` like up.sh) and waits until its /healthz answers.
   */
  async startNode(node: 'peer' | 'orderer'): Promise<void> {
    this.assertOwned(`start the ${node}`);
    if (this.pidOf(node) !== undefined) throw new Error(`${node} is already running`);
    const vars = readFileSync(join(this.dir, 'config', `${node}.env`), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? tmpdir(),
      TMPDIR: process.env.TMPDIR ?? tmpdir(),
    };
    for (const l of vars) {
      const i = l.indexOf('=');
      env[l.slice(0, i)] = l.slice(i + 1);
    }
    const bin = join(this.kit, 'bin', node);
    const fd = openSync(join(this.dir, 'logs', `${node}.log`), 'a');
    const child = spawn(bin, node === 'peer' ? ['node', 'start'] : [], { env, stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    child.unref();
    writeFileSync(join(this.dir, 'run', `${node}.pid`), `${child.pid}\n`);
    writeFileSync(join(this.dir, 'run', `${node}.exe`), `${bin}\n`);
    const ops = node === 'peer' ? this.env.PEER_OPS_PORT : this.env.ORDERER_OPS_PORT;
    await waitFor(
      `${node} /healthz`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${node} exited with ${child.exitCode} during start-up`);
        return httpOk(`http://127.0.0.1:${ops}/healthz`);
      },
      60_000,
      100,
    );
  }

  private assertOwned(what: string): void {
    if (!this.owned) throw new Error(`cannot ${what} of a network this process did not start (it is shared with other test files)`);
  }

  /** Releases what this caller holds: its chaincode servers, and the network itself when it started it. */
  async release(): Promise<void> {
    await this.stopChaincodes();
    if (this.owned) await this.stop();
  }

  /** Stops every process of the network (down.sh: chaincode servers, peer, orderer). */
  async stop(options: { removeDir?: boolean } = {}): Promise<void> {
    this.assertOwned('stop');
    await this.stopChaincodes();
    await run('bash', [join(this.kit, 'down.sh')], { PATH: process.env.PATH, HOME: process.env.HOME, FABNET_DIR: this.dir });
    if (options.removeDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
