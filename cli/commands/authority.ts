/**
 * `provenant authority`: the attribute authority's role (BRIEF §2–3, Setup and KeyGen).
 *
 *   provenant authority init --dir DIR [--schema deviceId,site,line,type,owner,fw] [--force]
 *   provenant authority enroll --dir DIR --device ID --attr k=v ... [--out DIR] [--board PICO] [--force]
 *
 * The crypto (mcl-wasm) and file handling load lazily inside the actions. K_IoT and the issuer
 * secret key are written to mode-0600 files and never printed.
 */
import type { Command } from 'commander';
import type * as AuthorityStore from '../authority-store.js';
import { DEFAULT_SCHEMA } from '../../shared/crypto/credential.js';
import { ProvenantError } from '../../shared/errors.js';

function argsError(message: string, field: string): ProvenantError {
  return new ProvenantError('PROV_ERR_BAD_INPUT', message, { field });
}

/** Parses `k=v` pairs (from repeated or variadic --attr) into attributes, rejecting duplicates. */
export function parseAttrs(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw argsError(`--attr "${pair}" must be name=value`, 'attr');
    const name = pair.slice(0, eq);
    if (Object.prototype.hasOwnProperty.call(out, name)) throw argsError(`--attr ${name} given twice`, 'attr');
    out[name] = pair.slice(eq + 1);
  }
  return out;
}

async function loadCrypto(): Promise<typeof AuthorityStore> {
  const { ready } = await import('../../shared/crypto/bbs.js');
  await ready();
  return import('../authority-store.js');
}

export function register(program: Command): void {
  const authority = program.command('authority').description('attribute authority: issuer keys, attribute schema, device enrollment');

  authority
    .command('init')
    .description('create the issuer BBS key pair and the attribute schema in a directory')
    .requiredOption('--dir <dir>', 'authority directory (created if missing)')
    .option('--schema <names>', 'ordered attribute names, comma-separated, first must be deviceId', DEFAULT_SCHEMA.join(','))
    .option('--force', 'overwrite an existing authority (its devices must be re-enrolled)', false)
    .action(async (opts: { dir: string; schema: string; force: boolean }) => {
      const schema = opts.schema.split(',').map((s) => s.trim());
      const store = await loadCrypto();
      const issuer = store.initAuthority(opts.dir, { schema, force: opts.force });
      const { toHex } = await import('../../shared/encoding/hex.js');
      process.stdout.write(
        `authority created in ${opts.dir}\n` +
          `  ${store.AUTHORITY_FILES.secret}  issuer secret key (mode 0600, keep offline)\n` +
          `  ${store.AUTHORITY_FILES.public}  issuer public key and schema (${issuer.schema.join(',')})\n`,
      );
      process.stdout.write(`${JSON.stringify({ dir: opts.dir, issuerPk: toHex(issuer.pk), schema: issuer.schema })}\n`);
    });

  authority
    .command('enroll')
    .description('enroll a device: K_IoT file for flashing, credential for the edge, registration record for the ledger')
    .requiredOption('--dir <dir>', 'authority directory (from authority init)')
    .requiredOption('--device <id>', 'device id (the deviceId attribute)')
    .option('--attr <name=value...>', 'attribute values, one per schema attribute besides deviceId', [])
    .option('--out <dir>', 'where to write the three files (default: the authority directory)')
    .option('--board <name>', 'board profile recorded in the device file (e.g. PICO)')
    .option('--force', 're-enroll a device whose files exist (issues a new K_IoT)', false)
    .option('--gateway <edgeId>', 'pin the device to this edge: written into the registration file (Algorithm 2 compares it)')
    .option('--firmware-hash <hex>', 'pin the firmware (SHA-256): written into the registration file (Algorithm 2 compares it)')
    .action(
      async (opts: {
        dir: string;
        device: string;
        attr: string[];
        out?: string;
        board?: string;
        force: boolean;
        gateway?: string;
        firmwareHash?: string;
      }) => {
        const attributes = parseAttrs(opts.attr);
        if (attributes['deviceId'] !== undefined && attributes['deviceId'] !== opts.device) {
          throw argsError(`--attr deviceId=${attributes['deviceId']} contradicts --device ${opts.device}`, 'deviceId');
        }
        attributes['deviceId'] = opts.device;
        const store = await loadCrypto();
        const { files, registration } = store.enrollToFiles(opts.dir, attributes, {
          ...(opts.out !== undefined ? { outDir: opts.out } : {}),
          ...(opts.board !== undefined ? { board: opts.board } : {}),
          ...(opts.gateway !== undefined ? { gatewayId: opts.gateway } : {}),
          ...(opts.firmwareHash !== undefined ? { firmwareHash: opts.firmwareHash } : {}),
          force: opts.force,
        });
        process.stdout.write(
          `enrolled ${registration.deviceId}\n` +
            `  ${files.device}  deviceId + K_IoT for flashing (mode 0600)\n` +
            `  ${files.credential}  credential for the edge\n` +
            `  ${files.registration}  registration record for the ledger\n`,
        );
        process.stdout.write(`${JSON.stringify({ deviceId: registration.deviceId, files })}\n`);
      },
    );
}
