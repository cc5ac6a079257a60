/**
 * `provenant verify`: is this data the genuine reading of a device? Asks the Data Provenance
 * contract (Algorithm 3) through the auditor and prints the verdict with its evidence: the ledger
 * record, its transaction and block, the inclusion proof and the chain head. Exit code 0 only
 * when the verdict is TRUE and the inclusion proof did not fail.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ProvenantError } from '../../shared/errors.js';
import type { AuditLocator, AuditResult } from '../../ledger-bridge/auditor/auditor.js';

interface VerifyOptions {
  device?: string;
  seq?: string;
  timestamp?: string;
  data?: string;
  tag?: string;
  ledger?: string;
  db?: string;
  tokenFile?: string;
  config?: string;
  identity: string;
  provenanceDb?: string;
  issuerPublic?: string;
  trustedHead?: string;
  saveHead?: string;
  json?: boolean;
}

function bad(message: string, field: string): ProvenantError {
  return new ProvenantError('PROV_ERR_BAD_INPUT', message, { field });
}

function integer(text: string, name: string, max: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(text) || Number(text) > max) throw bad(`${name} must be an integer 0..${max}, got '${text}'`, name);
  return Number(text);
}

/** The locator from --seq / --timestamp (exactly one). */
export function locatorOf(opts: { seq?: string; timestamp?: string }): AuditLocator {
  if ((opts.seq === undefined) === (opts.timestamp === undefined)) throw bad('give exactly one of --seq N or --timestamp MS', 'seq');
  return opts.seq !== undefined
    ? { seq: integer(opts.seq, '--seq', 0xffffffff) }
    : { t: integer(opts.timestamp as string, '--timestamp', Number.MAX_SAFE_INTEGER) };
}

/**
 * Reads a data file: raw canonical bytes, their hex, or JSON — a ReadingSubmission
 * { canonical, tag, ... } (as the edge submits it) whose tag is used unless --tag is given.
 */
export function readDataFile(path: string): { data: Uint8Array; tag?: Uint8Array } {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw bad(`cannot read --data ${path}: ${(err as Error).message}`, 'data');
  }
  const text = raw.toString('utf8').trim();
  if (text.startsWith('{')) {
    let json: { canonical?: unknown; tag?: unknown };
    try {
      json = JSON.parse(text) as typeof json;
    } catch (err) {
      throw bad(`--data ${path} is not valid JSON: ${(err as Error).message}`, 'data');
    }
    if (typeof json.canonical !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(json.canonical))
      throw bad(`--data ${path}: "canonical" must be hex of the reading bytes`, 'data');
    const tag = typeof json.tag === 'string' && /^[0-9a-fA-F]{64}$/.test(json.tag) ? Buffer.from(json.tag, 'hex') : undefined;
    return { data: Buffer.from(json.canonical, 'hex'), ...(tag ? { tag } : {}) };
  }
  const compact = text.replace(/\s+/g, '');
  if (compact.length > 0 && /^([0-9a-fA-F]{2})+$/.test(compact)) return { data: Buffer.from(compact, 'hex') };
  if (raw.length === 0) throw bad(`--data ${path} is empty`, 'data');
  return { data: new Uint8Array(raw) };
}

/** A head from HEIGHT:HASH or from a JSON file {height, hash} (as --save-head and `chaincode proof --save-head` write). */
export function parseHead(text: string): { height: number; hash: string } {
  let height: unknown;
  let hash: unknown;
  const m = /^([0-9]+):([0-9a-fA-F]{64})$/.exec(text);
  if (m) {
    height = Number(m[1]);
    hash = m[2];
  } else {
    let json: { height?: unknown; hash?: unknown };
    try {
      json = JSON.parse(readFileSync(text, 'utf8')) as typeof json;
    } catch (err) {
      throw bad(`--trusted-head must be HEIGHT:HASH or a JSON file {height, hash}: ${(err as Error).message}`, 'trusted-head');
    }
    height = json.height;
    hash = json.hash;
  }
  if (
    typeof height !== 'number' ||
    !Number.isSafeInteger(height) ||
    height < 1 ||
    typeof hash !== 'string' ||
    !/^[0-9a-fA-F]{64}$/.test(hash)
  ) {
    throw bad('--trusted-head: height must be an integer ≥ 1 and hash 64 hex digits', 'trusted-head');
  }
  return { height, hash: hash.toLowerCase() };
}

function describe(r: AuditResult): string {
  const lines = [
    `verdict: ${r.verdict}${r.verdict === 'TRUE' ? ' (genuine)' : ''} — ${r.message}`,
    `  device ${r.deviceId} ${r.locator}, data hash ${r.dataHash}`,
  ];
  const e = r.evidence;
  if (e) {
    lines.push(
      `  ledger record: dataHash ${e.record.dataHash}, seq ${e.record.seq}, t ${e.record.t}, epoch ${e.record.epoch}, tag ${e.record.tag}`,
    );
    lines.push(`                 edge ${e.record.edgeId}, received ${e.record.receivedAt}, path ${e.record.path.join(' → ')}`);
    lines.push(`  transaction ${e.txId} in block ${e.blockNumber}`);
    const check =
      e.proofCheck.ok === true
        ? 'checked OK'
        : e.proofCheck.ok === false
          ? `FAILED: ${e.proofCheck.reason}`
          : `unchecked: ${e.proofCheck.reason}`;
    lines.push(`  inclusion proof: ${check}; head height ${e.head.height}, hash ${e.head.hash}`);
    if (e.consistency)
      lines.push(`  extends the trusted head: ${e.consistency.ok ? 'yes (consistency proof checked)' : `NO: ${e.consistency.reason}`}`);
    if (e.batch) {
      const b = e.batch.check;
      const how = b.ok === true ? 'checked OK' : b.ok === false ? `FAILED: ${b.reason}` : `unchecked: ${b.reason}`;
      lines.push(
        `  batch path: ${how}; leaf ${e.batch.leafIndex} of ${e.batch.leaves}, ${e.batch.path.length} hashes to root ${e.batch.root}`,
      );
    }
    if (e.partial) {
      const c = e.partial.check;
      const how = c.ok === true ? 'BBS proof re-verified OK' : c.ok === false ? `FAILED: ${c.reason}` : `unchecked: ${c.reason}`;
      const key = e.partial.keyFrom === 'pinned' ? 'the pinned issuer key' : "the ledger config's issuer key";
      lines.push(`  partial signature ${e.partial.partialDigest}: ${how} (under ${key}; stored by tx ${e.partial.txId ?? '?'})`);
    }
  }
  if (r.dbStatus) lines.push(`  provenance DB status → ${r.dbStatus}`);
  return `${lines.join('\n')}\n`;
}

/** `verify --bundle FILE`: the offline check of an evidence bundle; exit 0 only if every check passed. */
async function verifyBundle(path: string, json: boolean): Promise<void> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw bad(`cannot read --bundle ${path}: ${(err as Error).message}`, 'bundle');
  }
  const { checkBundle, fabricAwareChecker } = await import('../../ledger-bridge/auditor/index.js');
  const checkProof = await fabricAwareChecker();
  const bundles = Array.isArray(parsed) ? parsed : [parsed];
  const reports = [];
  for (const b of bundles) reports.push(await checkBundle(b, checkProof));
  if (json) process.stdout.write(`${JSON.stringify(reports.length === 1 ? reports[0] : reports)}\n`);
  else
    for (const r of reports) {
      process.stdout.write(
        `bundle: ${r.genuine ? 'GENUINE' : 'NOT GENUINE'}${r.head ? ` (proof up to head ${r.head.height}/${r.head.hash}: compare it with a head you trust)` : ''}\n`,
      );
      for (const c of r.checks) process.stdout.write(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}\n`);
    }
  process.exitCode = reports.every((r) => r.genuine) ? 0 : 1;
}

/**
 * `verify --offline EVIDENCE --key KEY --data FILE`: is the reading independently verifiable? The
 * board's own LMS signature over its epoch segment, checked with public data only — the device's
 * registered public key (as the verifier obtained it from the authority), the key-set chain, the
 * epoch signature, the Merkle path and the data (shared/crypto/evidence.ts). No ledger, no K_IoT,
 * nobody trusted. Exit 0 only when every step passes.
 */
async function verifyOffline(
  evidencePath: string,
  keyText: string | undefined,
  dataPath: string | undefined,
  json: boolean,
): Promise<void> {
  if (keyText === undefined) throw bad("give --key: the device's registered LMS public key (hex, or a file holding it)", 'key');
  if (dataPath === undefined) throw bad('give --data FILE: the canonical reading bytes (raw or hex) or a submission JSON', 'data');
  let keyHex = keyText.trim();
  if (!/^([0-9a-fA-F]{2})+$/.test(keyHex)) {
    try {
      keyHex = readFileSync(keyText, 'utf8').trim();
    } catch (err) {
      throw bad(`--key is neither hex nor a readable file: ${(err as Error).message}`, 'key');
    }
    if (!/^([0-9a-fA-F]{2})+$/.test(keyHex)) throw bad(`--key file ${keyText} does not hold hex`, 'key');
  }
  let evidence: unknown;
  try {
    evidence = JSON.parse(readFileSync(evidencePath, 'utf8'));
  } catch (err) {
    throw bad(`cannot read --offline ${evidencePath}: ${(err as Error).message}`, 'offline');
  }
  evidence = evidenceIn(evidence);
  if (evidence === null || typeof evidence !== 'object' || Array.isArray(evidence))
    throw bad(
      `--offline ${evidencePath} must hold one evidence object, or an auditor answer with signature.evidence (docs/auditor.md, "Independently verifiable")`,
      'offline',
    );
  const { checkEvidence } = await import('../../shared/crypto/evidence.js');
  const { sha256 } = await import('../../shared/crypto/sha256.js');
  const { data } = readDataFile(dataPath);
  const r = checkEvidence(sha256, evidence as Parameters<typeof checkEvidence>[1], data, Buffer.from(keyHex, 'hex'));
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else if (r.ok)
    process.stdout.write(
      `independently verifiable: YES — device ${r.deviceId} seq ${r.seq}, epoch ${r.epoch}, in segment ${r.segment.firstSeq}..${
        r.segment.firstSeq + r.segment.count - 1
      } signed by key set ${r.keySet} leaf ${r.leaf}; data hash ${r.dataHash}\n`,
    );
  else process.stdout.write(`independently verifiable: NO — ${r.step}: ${r.reason}\n`);
  process.exitCode = r.ok ? 0 : 1;
}

/**
 * The evidence in what --offline was given: a SignatureEvidence itself, or an auditor's answer
 * (POST /verify, `provenant verify --json`) carrying it in `signature.evidence` (also the first
 * result of POST /validate's `results`).
 */
function evidenceIn(v: unknown): unknown {
  const obj = (x: unknown): Record<string, unknown> | undefined =>
    x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
  const o = obj(v);
  if (o === undefined || 'epochSignature' in o) return v;
  const fromAnswer = obj(obj(o['signature'])?.['evidence']);
  if (fromAnswer) return fromAnswer;
  const results = o['results'];
  const answer = Array.isArray(results) ? obj(results[0]) : o;
  const first = obj(obj(answer?.['signature'])?.['evidence']);
  if (first) return first;
  if (answer !== undefined && 'verdict' in answer) {
    const why = obj(answer['signature'])?.['reason'];
    throw bad(
      `the auditor's answer carries no signature evidence: the reading is ${String(answer['independence'] ?? 'not proven')}${typeof why === 'string' ? ` (${why})` : ''}`,
      'offline',
    );
  }
  return v;
}

/** Registers `provenant verify`. */
export function register(program: Command): void {
  program
    .command('verify')
    .description(
      "is this data a device's genuine reading? Alg. 3 verdict (TRUE, FALSE, not found, signature mismatch; UNPROVEN when the inclusion proof fails) with the ledger evidence; exit 0 only for TRUE",
    )
    .option('--device <id>', 'deviceId')
    .option('--bundle <file>', 'check an evidence bundle (provenant export) offline: no ledger, no database')
    .option(
      '--offline <evidence>',
      "check the board's own epoch signature over --data with public data only (an evidence JSON, the --key); no ledger, no K_IoT",
    )
    .option('--key <hex|file>', "with --offline: the device's registered LMS public key, as you obtained it from the authority")
    .option('--seq <n>', 'sequence number of the reading')
    .option('--timestamp <ms>', 'device timestamp of the reading (ms since 1970)')
    .option(
      '--data <file>',
      'the data: canonical reading bytes (raw or hex) or a submission JSON {canonical, tag}; omitted: every copy in --provenance-db',
    )
    .option('--tag <hex>', 'the tag presented with the data (32 bytes hex)')
    .option('--ledger <url>', 'a running ledger (provenant ledger start), e.g. http://127.0.0.1:7050')
    .option('--db <path>', 'an embedded ledger file, opened in this process')
    .option('--token-file <file>', 'bearer token for --ledger (else env PROVENANT_LEDGER_TOKEN)')
    .option('-c, --config <file>', "a Fabric network: the auditor's client config (docs/fabric.md)")
    .option('--identity <name>', 'identity to act as (embedded ledger)', 'auditor')
    .option(
      '--issuer-public <file>',
      "the authority's issuer.public.json: partials are re-verified under its key (else the ledger config's)",
    )
    .option('--provenance-db <path>', 'provenance database: source of the data when --data is omitted; receives the verdict')
    .option(
      '--trusted-head <head>',
      'a chain head saved earlier (HEIGHT:HASH or a JSON file {height, hash}): the ledger must prove its chain extends it',
    )
    .option('--save-head <file>', 'write the head the evidence was checked against (JSON {height, hash}) for a later --trusted-head')
    .option('--json', 'print the result as JSON')
    .action(async (opts: VerifyOptions & { bundle?: string; offline?: string; key?: string }) => {
      if (opts.bundle !== undefined) return verifyBundle(opts.bundle, opts.json === true);
      if (opts.offline !== undefined) return verifyOffline(opts.offline, opts.key, opts.data, opts.json === true);
      if (opts.device === undefined) throw bad('give --device ID (or --bundle FILE)', 'device');
      const at = locatorOf(opts);
      if (opts.data === undefined && opts.provenanceDb === undefined)
        throw bad('give --data FILE, or --provenance-db PATH to check the copies stored there', 'data');
      if (opts.tag !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.tag)) throw bad('--tag must be 64 hex digits', 'tag');
      const trustedHead = opts.trustedHead !== undefined ? parseHead(opts.trustedHead) : undefined;
      const input = opts.data !== undefined ? readDataFile(opts.data) : undefined;
      const issuerPk =
        opts.issuerPublic !== undefined ? (await import('../authority-store.js')).loadIssuerPublicFile(opts.issuerPublic).pk : undefined;
      const { Auditor, ProvenanceDb, connectLedger } = await import('../../ledger-bridge/auditor/index.js');
      const ledger = await connectLedger({
        identity: opts.identity,
        ...(opts.ledger ? { ledger: opts.ledger } : {}),
        ...(opts.db ? { db: opts.db } : {}),
        ...(opts.tokenFile ? { tokenFile: opts.tokenFile } : {}),
        ...(opts.config ? { fabricConfig: opts.config } : {}),
      });
      // Fabric evidence is a block (checked against its hash chain); embedded evidence a Merkle path.
      const checkProof =
        opts.config !== undefined ? await (await import('../../ledger-bridge/auditor/connect.js')).fabricAwareChecker() : undefined;
      const db = opts.provenanceDb !== undefined ? await ProvenanceDb.open(opts.provenanceDb) : undefined;
      try {
        const auditor = new Auditor({
          ledger,
          ...(issuerPk ? { issuerPk } : {}),
          ...(db ? { db } : {}),
          ...(trustedHead ? { trustedHead } : {}),
          ...(checkProof ? { checkProof } : {}),
        });
        let results: AuditResult[];
        if (input !== undefined) {
          const tag = opts.tag !== undefined ? Buffer.from(opts.tag, 'hex') : input.tag;
          results = [await auditor.check({ deviceId: opts.device, at, data: input.data, askedBy: 'cli', ...(tag ? { tag } : {}) })];
        } else {
          results = await auditor.checkStored(opts.device, at, 'cli');
        }
        const checkedHead = results.find((r) => r.evidence !== undefined)?.evidence?.head;
        if (opts.saveHead !== undefined && checkedHead !== undefined) writeFileSync(opts.saveHead, `${JSON.stringify(checkedHead)}\n`);
        if (opts.json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results)}\n`);
        else for (const r of results) process.stdout.write(describe(r));
        process.exitCode = results.every((r) => r.verdict === 'TRUE' && r.genuine) ? 0 : 1;
      } finally {
        db?.close();
        await ledger.close();
      }
    });
}
