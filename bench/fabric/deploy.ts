/**
 * `bench fabric --deploy`: deploys the chaincodes the benchmark needs — a fresh Provenant
 * chaincode and the trivial one-key `put` chaincode (put-contract.ts) — with the `peer` CLI, in
 * the environment docs/fabric.md §1 sets up (CORE_PEER_* for an admin of the organisation,
 * FABRIC_CFG_PATH, and CHANNEL, ORDERER, ORDERER_CA, PEER, PEER_TLS_CA), exactly by §3–§5's
 * commands, and serves each with `provenant chaincode serve` from this host. One organisation
 * approves: on a channel whose lifecycle policy needs more organisations, deploy the two
 * chaincodes by hand (§3–§5, names of your choice) and pass them with --chaincode / --raw-chaincode.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvenantError } from '../../shared/errors.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(REPO, 'bin', 'provenant.js');
const PACKAGE_SH = join(REPO, 'deploy', 'fabric', 'package', 'package.sh');
export const COLLECTIONS = join(REPO, 'deploy', 'fabric', 'config', 'collections_config.json');
export const PUT_CONTRACT = join(REPO, 'bench', 'fabric', 'put-contract.ts');

/** The environment variables --deploy needs (docs/fabric.md §1). */
export const DEPLOY_ENV = ['CHANNEL', 'ORDERER', 'ORDERER_CA', 'PEER', 'PEER_TLS_CA', 'CORE_PEER_MSPCONFIGPATH', 'CORE_PEER_LOCALMSPID'];

/** Throws PROV_ERR_CONFIG naming the first missing variable. */
export function checkDeployEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const v of DEPLOY_ENV) {
    if (!env[v])
      throw new ProvenantError(
        'PROV_ERR_CONFIG',
        `--deploy runs the peer CLI as in docs/fabric.md §1: ${v} is not set (needs ${DEPLOY_ENV.join(', ')}, CORE_PEER_ADDRESS, CORE_PEER_TLS_*)`,
        { field: v },
      );
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', (err) => rej(new ProvenantError('PROV_ERR_CONFIG', `cannot run ${cmd}: ${err.message}`, { cause: err })));
    child.once('exit', (code) =>
      code === 0
        ? res(out)
        : rej(new ProvenantError('PROV_ERR_FABRIC', `${cmd} ${args.slice(0, 3).join(' ')} … failed (exit ${code}):\n${out.slice(-2000)}`)),
    );
  });
}

/** A chaincode the bench deployed and serves. */
export interface ServedChaincode {
  readonly name: string;
  readonly packageId: string;
  readonly address: string;
  /** The chaincode server's pid (for CPU accounting). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Packages (deploy/fabric/package/package.sh), installs, approves and commits a ccaas chaincode
 * named `name` (sequence 1: the name must be new) whose server this process then starts.
 */
export async function deployAndServe(opts: {
  readonly name: string;
  /** Host the peer dials for the chaincode server (this host as the peer sees it). */
  readonly host: string;
  readonly contractsModule?: string;
  readonly collections?: string;
  readonly policy: string;
  readonly log: (m: string) => void;
}): Promise<ServedChaincode> {
  const env = process.env;
  const port = await freePort(opts.host);
  const address = `${opts.host}:${port}`;
  const work = mkdtempSync(join(tmpdir(), 'provenant-bench-cc-'));
  try {
    copyFileSync(PACKAGE_SH, join(work, 'package.sh'));
    writeFileSync(join(work, 'connection.json'), `${JSON.stringify({ address, dial_timeout: '10s', tls_required: false }, null, 2)}\n`);
    writeFileSync(join(work, 'metadata.json'), `${JSON.stringify({ type: 'ccaas', label: opts.name })}\n`);
    await run('sh', [join(work, 'package.sh')], work);
    const pkg = join(work, 'provenant.tgz');
    const packageId = (await run('peer', ['lifecycle', 'chaincode', 'calculatepackageid', pkg])).trim();
    opts.log(`deploying ${opts.name} (${packageId.slice(0, opts.name.length + 13)}…) served at ${address}`);
    await run('peer', ['lifecycle', 'chaincode', 'install', pkg]);
    const common = [
      '--channelID',
      env.CHANNEL as string,
      '--name',
      opts.name,
      '--version',
      '1',
      '--sequence',
      '1',
      '--signature-policy',
      opts.policy,
      ...(opts.collections ? ['--collections-config', opts.collections] : []),
    ];
    const orderer = ['-o', env.ORDERER as string, '--tls', '--cafile', env.ORDERER_CA as string];
    await run('peer', ['lifecycle', 'chaincode', 'approveformyorg', ...orderer, ...common, '--package-id', packageId]);
    await run('peer', [
      'lifecycle',
      'chaincode',
      'commit',
      ...orderer,
      ...common,
      '--peerAddresses',
      env.PEER as string,
      '--tlsRootCertFiles',
      env.PEER_TLS_CA as string,
    ]);
    const server = await serve(address, packageId, opts.contractsModule, join(work, 'server.log'));
    return {
      name: opts.name,
      packageId,
      address,
      pid: server.pid,
      stop: async () => {
        await server.stop();
        rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

/** Starts `provenant chaincode serve` and resolves once it listens. */
async function serve(
  address: string,
  id: string,
  contractsModule: string | undefined,
  logFile: string,
): Promise<{ pid: number | undefined; stop(): Promise<void> }> {
  // PROVENANT_CC_PROFILE=DIR: the chaincode server writes a V8 CPU profile there when it stops
  // (where the chaincode side of a Fabric run spends its time; the peer and orderer are Go).
  const prof = process.env['PROVENANT_CC_PROFILE'];
  const args = [
    ...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []),
    CLI,
    'chaincode',
    'serve',
    '--address',
    address,
    '--id',
    id,
    ...(contractsModule ? ['--contracts-module', contractsModule] : []),
  ];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((res, rej) => {
    let seen = '';
    const onExit = (code: number | null): void =>
      rej(new ProvenantError('PROV_ERR_FABRIC', `chaincode server exited with ${code} (log: ${logFile})`));
    child.once('exit', onExit);
    child.stderr?.on('data', (d: Buffer) => appendFileSync(logFile, d));
    child.stdout?.on('data', (d: Buffer) => {
      appendFileSync(logFile, d);
      if (seen.length > 8192) return;
      seen += d.toString();
      if (seen.includes('chaincode server listening')) {
        seen = ' '.repeat(8193);
        child.off('exit', onExit);
        res();
      }
    });
  });
  return {
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A fresh chaincode name (sequence 1 needs a name never committed on the channel). */
export function freshName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
}
