/**
 * The module boundaries of docs/architecture.md are enforced by eslint (eslint.config.js,
 * eslint-plugin-boundaries): this runs ESLint's Node API on snippets placed in each folder and
 * expects the boundary error where an import crosses a boundary, and none where it may.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

/** The boundary errors ESLint reports for `code` as if it were the file `at`. */
async function boundaryErrors(at: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, at) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'boundaries/dependencies').map((m) => m.message);
}

// [file the snippet pretends to be, import specifier, allowed?]
const CASES: [string, string, boolean][] = [
  ['shared/x.ts', '../edge-runtime/src/runtime.js', false],
  ['shared/wire/x.ts', '../../ledger-bridge/client.js', false],
  ['shared/wire/x.ts', '../crypto/sha256.js', true],
  ['firmware/x.ts', '../hardware/flash.js', false],
  ['firmware/x.ts', '../shared/errors.js', true],
  ['hardware/x.ts', '../firmware/boards.js', true],
  ['hardware/x.ts', '../edge-runtime/src/runtime.js', false],
  ['edge-runtime/src/x.ts', '../../ledger-bridge/embedded/ledger.js', false],
  ['edge-runtime/src/x.ts', '../../ledger-bridge/fabric/fabric-client.js', false],
  ['edge-runtime/src/x.ts', '../../ledger-bridge/client.js', true],
  ['edge-runtime/src/x.ts', '../../ledger-bridge/connect.js', true],
  ['edge-runtime/src/x.ts', '../../hardware/sim/index.js', false],
  ['edge-runtime/src/x.ts', '../../demo/run.js', false],
  ['ledger-bridge/embedded/x.ts', '../../edge-runtime/src/runtime.js', false],
  ['ledger-bridge/embedded/x.ts', '../contracts/index.js', true],
  ['cli/x.ts', '../test/support/bbs-peer.js', false],
  ['demo/x.ts', '../test/support/edge-fixture.js', false],
  ['demo/x.ts', '../ledger-bridge/embedded/index.js', true],
  ['ledger-bridge/fabric/x.ts', '../../test/support/fabric/network.js', false],
  ['test/edge/x.test.ts', '../../edge-runtime/src/runtime.js', true],
];

describe('eslint boundary rule', () => {
  it.each(CASES)('%s importing %s: allowed = %s', async (at, spec, allowed) => {
    const errors = await boundaryErrors(at, `import { x } from '${spec}';\nexport const y = x;\n`);
    if (allowed) expect(errors).toEqual([]);
    else expect(errors.join('\n')).toMatch(/no policy allowing dependencies from elements of type/);
  });

  it('also sees dynamic imports', async () => {
    const errors = await boundaryErrors('shared/x.ts', `export const m = await import('../ledger-bridge/embedded/index.js');\n`);
    expect(errors).toHaveLength(1);
  });
});
