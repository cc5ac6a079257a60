/**
 * The trivial chaincode `bench fabric` measures the network's raw transaction rate with: one
 * blind write of one key per transaction (no read, so no MVCC conflicts), nothing else. Its tx/s
 * is what the peer, the orderer and the gateway can do; Provenant's readings/s in the same run is
 * compared with it. Served by `provenant chaincode serve --contracts-module bench/fabric/put-contract.ts`.
 */
// Context is a value import on purpose: decorator metadata must name the class (see fabric.ts).
// eslint-disable-next-line @typescript-eslint/consistent-type-imports
import { Context, Contract, Info, Returns, StringParams, Transaction } from '../../ledger-bridge/contracts/fabric.js';

@Info({ title: 'Put', description: 'one PutState per transaction (bench fabric raw tx/s)' })
export class PutContract extends Contract {
  constructor() {
    super('Put');
  }

  /** Writes `value` under `key`. */
  @StringParams('key', 'value')
  @Transaction()
  @Returns('string')
  async put(ctx: Context, key: string, value: string): Promise<string> {
    await ctx.stub.putState(key, Buffer.from(value));
    return '';
  }
}

/** What `provenant chaincode serve --contracts-module` loads. */
export const contracts = [PutContract];
