/**
 * `provenant chaincode serve`: the four contracts as chaincode-as-a-service for a Fabric peer
 * (see docs/fabric.md and deploy/fabric/). Options fall back to the environment variables the
 * Fabric samples use for CCaaS containers, so the same image runs under Docker, Kubernetes or
 * systemd: CHAINCODE_SERVER_ADDRESS, CHAINCODE_ID, CHAINCODE_TLS_KEY, CHAINCODE_TLS_CERT,
 * CHAINCODE_TLS_CLIENT_CA.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { ProvenantError } from '../../shared/errors.js';

interface ServeOptions {
  address?: string;
  id?: string;
  tlsKey?: string;
  tlsCert?: string;
  tlsClientCa?: string;
  contractsModule?: string;
}

/** Registers `provenant chaincode serve | check | proof`. */
export function register(program: Command): void {
  const chaincode = program
    .command('chaincode')
    .description('Fabric: serve the contracts as chaincode, check a deployment, prove a transaction');
  chaincode
    .command('serve')
    .description('serve the four contracts to Fabric peers (fabric-shim chaincode server)')
    .option('--address <host:port>', 'listen address (env CHAINCODE_SERVER_ADDRESS), e.g. 0.0.0.0:9999')
    .option('--id <chaincodeId>', 'package id from `peer lifecycle chaincode install` (env CHAINCODE_ID)')
    .option('--tls-key <file>', 'PEM private key; with --tls-cert enables TLS (env CHAINCODE_TLS_KEY)')
    .option('--tls-cert <file>', 'PEM certificate (env CHAINCODE_TLS_CERT)')
    .option('--tls-client-ca <file>', 'PEM CA for peer client certificates; requires mutual TLS (env CHAINCODE_TLS_CLIENT_CA)')
    .option('--contracts-module <file>', 'serve the `contracts` export of another module instead of ledger-bridge/contracts')
    .action(async (opts: ServeOptions) => {
      const env = process.env;
      const address = opts.address ?? env.CHAINCODE_SERVER_ADDRESS;
      const id = opts.id ?? env.CHAINCODE_ID;
      const tlsKey = opts.tlsKey ?? env.CHAINCODE_TLS_KEY;
      const tlsCert = opts.tlsCert ?? env.CHAINCODE_TLS_CERT;
      const tlsClientCa = opts.tlsClientCa ?? env.CHAINCODE_TLS_CLIENT_CA;
      if (!address)
        throw new ProvenantError('PROV_ERR_CONFIG', '--address (or CHAINCODE_SERVER_ADDRESS) is required', { field: 'address' });
      if (!id) throw new ProvenantError('PROV_ERR_CONFIG', '--id (or CHAINCODE_ID) is required', { field: 'id' });
      if (Boolean(tlsKey) !== Boolean(tlsCert)) {
        throw new ProvenantError('PROV_ERR_CONFIG', 'TLS needs both --tls-key and --tls-cert', { field: tlsKey ? 'tls-cert' : 'tls-key' });
      }
      if (tlsClientCa && !tlsKey) {
        throw new ProvenantError('PROV_ERR_CONFIG', '--tls-client-ca needs --tls-key and --tls-cert', { field: 'tls-key' });
      }
      const { startChaincodeServer } = await import('../../ledger-bridge/fabric/chaincode-server.js');
      let contracts;
      if (opts.contractsModule) {
        const mod = (await import(pathToFileURL(resolve(opts.contractsModule)).href)) as { contracts?: unknown };
        if (!Array.isArray(mod.contracts)) {
          throw new ProvenantError('PROV_ERR_CONFIG', `${opts.contractsModule} exports no \`contracts\` array`, {
            field: 'contracts-module',
          });
        }
        contracts = mod.contracts as (new () => unknown)[];
      }
      const server = await startChaincodeServer({
        address,
        chaincodeId: id,
        ...(tlsKey && tlsCert
          ? { tls: { keyPath: tlsKey, certPath: tlsCert, ...(tlsClientCa ? { clientCaCertPath: tlsClientCa } : {}) } }
          : {}),
        ...(contracts ? { contracts } : {}),
      });
      // The stop handlers go in before the line that says it listens: whoever reads that line may
      // send SIGTERM at once (a CI run saw the process die of the signal, exit code null).
      const stopped = new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      // One parseable line so scripts (and tests) know when and where it listens.
      process.stdout.write(
        `chaincode server listening ${JSON.stringify({ address, port: server.port, id, tls: Boolean(tlsKey), contracts: server.contractNames })}\n`,
      );
      await stopped;
    });

  chaincode
    .command('check')
    .description('connect as the configured identity: chain head and the contracts the chaincode serves')
    .requiredOption('-c, --config <file>', 'Fabric client config (YAML/JSON; e.g. deploy/fabric/config/auditor.yaml)')
    .action(async (opts: { config: string }) => {
      const { FabricLedgerClient } = await import('../../ledger-bridge/fabric/fabric-client.js');
      const client = await FabricLedgerClient.connect(opts.config);
      try {
        const head = await client.head();
        // fabric-contract-api's system contract describes every contract the chaincode serves.
        const meta = JSON.parse(
          Buffer.from(await client.evaluate({ contract: 'org.hyperledger.fabric' as never, fn: 'GetMetadata', args: [] })).toString(),
        ) as { contracts?: Record<string, unknown> };
        const contracts = Object.keys(meta.contracts ?? {}).filter((n) => n !== 'org.hyperledger.fabric');
        const c = client.config;
        process.stdout.write(`peer ${c.peerEndpoint}, channel ${c.channel}, chaincode ${c.chaincode}, identity ${c.mspId}\n`);
        process.stdout.write(`chain height ${head.height}, head ${head.hash}\n`);
        process.stdout.write(`contracts: ${contracts.join(', ')}\n`);
        process.stdout.write(`${JSON.stringify({ head, contracts })}\n`);
      } finally {
        await client.close();
      }
    });

  chaincode
    .command('proof')
    .description('fetch and verify the block holding a transaction, chained to the current (or a saved) head')
    .requiredOption('-c, --config <file>', 'Fabric client config (YAML/JSON)')
    .option('--tx <txId>', 'transaction id')
    .option('--device <deviceId>', 'with --seq: prove the transaction that recorded this reading (instead of --tx)')
    .option('--seq <n>', 'with --device: the reading’s sequence number')
    .option('--head <file>', 'a head saved earlier (JSON {height, hash}); the proof must chain to it')
    .option('--save-head <file>', 'write the head the proof was checked against')
    .action(async (opts: { config: string; tx?: string; device?: string; seq?: string; head?: string; saveHead?: string }) => {
      const { readFileSync, writeFileSync } = await import('node:fs');
      const bad = (message: string, field: string) => new ProvenantError('PROV_ERR_BAD_INPUT', message, { field });
      if ((opts.tx === undefined) === (opts.device === undefined)) throw bad('give --tx TXID, or --device ID --seq N', 'tx');
      if ((opts.device === undefined) !== (opts.seq === undefined)) throw bad('--device and --seq go together', 'seq');
      if (opts.seq !== undefined && !/^(0|[1-9][0-9]{0,9})$/.test(opts.seq))
        throw bad(`--seq must be an integer, got '${opts.seq}'`, 'seq');
      const { FabricLedgerClient } = await import('../../ledger-bridge/fabric/fabric-client.js');
      const { verifyFabricInclusion } = await import('../../ledger-bridge/fabric/block-proof.js');
      let saved: { height: number; hash: string } | undefined;
      if (opts.head) {
        try {
          saved = JSON.parse(readFileSync(opts.head, 'utf8')) as { height: number; hash: string };
        } catch (cause) {
          throw new ProvenantError('PROV_ERR_CONFIG', `cannot read the saved head "${opts.head}"`, { field: 'head', cause });
        }
      }
      const client = await FabricLedgerClient.connect(opts.config);
      try {
        let txId = opts.tx as string;
        if (opts.device !== undefined) {
          const record = JSON.parse(
            Buffer.from(
              await client.evaluate({ contract: 'DataProvenance', fn: 'get', args: [opts.device, opts.seq as string] }),
            ).toString(),
          ) as { txId: string };
          txId = record.txId;
          process.stdout.write(`reading ${opts.device} seq ${opts.seq} was recorded by transaction ${txId}\n`);
        }
        const proof = await client.inclusionProof(txId, saved ? { head: saved } : {});
        verifyFabricInclusion(proof, saved);
        if (opts.saveHead) writeFileSync(opts.saveHead, `${JSON.stringify(proof.head)}\n`);
        const headers = (proof.evidence as { headers: unknown[] }).headers.length;
        process.stdout.write(
          `transaction ${proof.txId} is VALID in block ${proof.blockNumber}; ${headers} later header(s) chain to head ${proof.head.height}/${proof.head.hash}\n`,
        );
        process.stdout.write(`${JSON.stringify({ txId: proof.txId, blockNumber: proof.blockNumber, head: proof.head, verified: true })}\n`);
      } finally {
        await client.close();
      }
    });
}
