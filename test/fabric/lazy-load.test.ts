/**
 * Registering the Fabric commands loads no Fabric library: fabric-shim, fabric-contract-api,
 * @hyperledger/fabric-gateway and grpc load inside the actions, so `provenant --help` stays light.
 */
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const heavy = ['fabric-shim', 'fabric-contract-api', '@hyperledger/fabric-gateway', '@hyperledger/fabric-protos', '@grpc/grpc-js'];
const loaded = (): string[] => Object.keys(require.cache).filter((k) => heavy.some((h) => k.includes(`/node_modules/${h}/`)));

describe('lazy loading of the Fabric parts', () => {
  it('registers `chaincode` and `bench fabric` without loading Fabric libraries', async () => {
    expect(loaded()).toEqual([]);
    const program = new Command('provenant');
    (await import('../../cli/commands/chaincode.js')).register(program);
    (await import('../../bench/fabric.js')).register(program.command('bench'));
    expect(program.commands.map((c) => c.name())).toEqual(['chaincode', 'bench']);
    expect(loaded()).toEqual([]);
  });
});
