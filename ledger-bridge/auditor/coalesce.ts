/**
 * One ledger read for many of the auditor's questions.
 *
 * Each answer asks the ledger two read-only questions (Data Provenance `verify`, then
 * `signatureLevel`); an auditor answering hundreds of questions a second spent most of its time,
 * and the ledger most of its, on those requests' fixed cost (HTTP, JSON, fastify's request path,
 * the contract invocation), not on the lookups (docs/evaluation.md, Fig. 8). The contract offers
 * `verifyMany` and `signatureLevelMany`: the same functions over an array of questions, each
 * answer exactly what the single function answers for it, or what it throws, as data.
 *
 * `LedgerReads` coalesces the questions in flight: a question is sent on the next turn of the
 * event loop together with every other question asked by then; while `maxInFlight` requests are
 * out, new questions wait and go together as soon as one comes back. A lone question goes out as
 * the single function (the answer is the same). A ledger whose contract predates the `…Many`
 * functions (a Fabric network with an older chaincode) is asked one question at a time, and the
 * `…Many` read is tried again after a minute. A ledger that cannot be reached fails every question
 * sent with that request, with its error.
 *
 * `LedgerReads.for(ledger)` is one per ledger client, like the proof cache: every Auditor on a
 * client shares it. A client may say how its reads are best coalesced (`readCoalescing`): a Fabric
 * chaincode runs a read's questions one after the other, each state read a chaincode ↔ peer
 * message, so there more, smaller reads in flight keep the peer and the chaincode server busy
 * (FabricLedgerClient: 32 questions, 8 in flight; docs/fabric.md §10).
 */
import { CONTRACTS, type LedgerClient } from '../client.js';
import { codeOf, ProvenantError, toErrorCode } from '../../shared/errors.js';

/** One answer: the value, or the error the single function throws for it. */
export type Outcome<R> = { readonly ok: R } | { readonly err: unknown };

/** Options of a coalescer. */
export interface CoalescerOptions {
  /** Most questions in one request (default 128: one request holds the ledger's thread for all of them). */
  readonly maxBatch?: number;
  /** Requests out at once (default 2). */
  readonly maxInFlight?: number;
}

interface Waiting<Q, R> {
  readonly q: Q;
  readonly resolve: (r: R) => void;
  readonly reject: (err: unknown) => void;
}

/** Gathers the questions asked while requests are out and sends them together. */
export class Coalescer<Q, R> {
  private readonly queue: Waiting<Q, R>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  /** Requests sent and questions answered (metrics, tests). */
  readonly stats = { requests: 0, questions: 0, largest: 0 };

  constructor(
    private readonly send: (qs: readonly Q[]) => Promise<readonly Outcome<R>[]>,
    options: CoalescerOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 128;
    this.maxInFlight = options.maxInFlight ?? 2;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1)
      throw new RangeError(`maxBatch must be an integer >= 1, got ${this.maxBatch}`);
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1)
      throw new RangeError(`maxInFlight must be an integer >= 1, got ${this.maxInFlight}`);
  }

  /** The answer to `q`, sent with the other questions in flight. */
  ask(q: Q): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ q, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      this.stats.requests++;
      this.stats.questions += batch.length;
      this.stats.largest = Math.max(this.stats.largest, batch.length);
      this.send(batch.map((w) => w.q))
        .then(
          (outs) => {
            if (outs.length !== batch.length) throw new Error(`${outs.length} answers to ${batch.length} questions`);
            batch.forEach((w, i) => {
              const o = outs[i] as Outcome<R>;
              if ('ok' in o) w.resolve(o.ok);
              else w.reject(o.err);
            });
          },
          (err: unknown) => {
            for (const w of batch) w.reject(err);
          },
        )
        .catch((err: unknown) => {
          for (const w of batch) w.reject(err);
        })
        .finally(() => {
          this.inFlight--;
          if (this.queue.length > 0) this.schedule();
        });
    }
  }
}

/** The answer of one entry of a `…Many` read (the contract's ManyEntry). */
type ManyEntry = { answer: unknown } | { error: { code: string | null; message: string } };

const decoder = new TextDecoder();
const perClient = new WeakMap<LedgerClient, LedgerReads>();
/** How long a ledger that refused a `…Many` read is asked one question at a time. */
const RETRY_MANY_MS = 60_000;

/** Failures of the transport (every question would fail alike): not a sign the `…Many` read is missing. */
const unreachable = (err: unknown): boolean => {
  const c = codeOf(err);
  return c === 'PROV_ERR_LEDGER_UNAVAILABLE' || c === 'PROV_ERR_LEDGER_CLOSED';
};

/** How a ledger client's reads are best coalesced, when it says (an optional property of the client). */
export interface ReadCoalescing {
  readonly readCoalescing?: CoalescerOptions;
}

/** `verify` and `signatureLevel` on the Data Provenance contract, coalesced (module comment). */
export class LedgerReads {
  private readonly verifyQ: Coalescer<readonly string[], unknown>;
  private readonly levelQ: Coalescer<readonly string[], unknown>;
  private manyRefusedAt = -Infinity;

  constructor(
    private readonly ledger: LedgerClient,
    options: CoalescerOptions = {},
  ) {
    this.verifyQ = new Coalescer((qs) => this.many('verify', 'verifyMany', qs), options);
    this.levelQ = new Coalescer((qs) => this.many('signatureLevel', 'signatureLevelMany', qs), options);
  }

  /** The reads every user of `ledger` shares (created on first use with the client's coalescing, or the defaults). */
  static for(ledger: LedgerClient): LedgerReads {
    let r = perClient.get(ledger);
    if (!r) {
      r = new LedgerReads(ledger, (ledger as LedgerClient & ReadCoalescing).readCoalescing ?? {});
      perClient.set(ledger, r);
    }
    return r;
  }

  /** Requests and questions so far, per function (metrics, tests). */
  get stats(): { verify: Coalescer<never, never>['stats']; signatureLevel: Coalescer<never, never>['stats'] } {
    return { verify: this.verifyQ.stats, signatureLevel: this.levelQ.stats };
  }

  /** `verify(deviceId, locator, dataHex, tagHex)`, its answer parsed. */
  verify(deviceId: string, locator: string, dataHex: string, tagHex: string): Promise<unknown> {
    return this.verifyQ.ask([deviceId, locator, dataHex, tagHex]);
  }

  /** `signatureLevel(deviceId, seq)`, its answer parsed. */
  signatureLevel(deviceId: string, seq: string): Promise<unknown> {
    return this.levelQ.ask([deviceId, seq]);
  }

  private async one(fn: string, args: readonly string[]): Promise<unknown> {
    return JSON.parse(decoder.decode(await this.ledger.evaluate({ contract: CONTRACTS.dataProvenance, fn, args: [...args] })));
  }

  private async many(fn: string, manyFn: string, qs: readonly (readonly string[])[]): Promise<Outcome<unknown>[]> {
    const singly = (): Promise<Outcome<unknown>[]> =>
      Promise.all(
        qs.map((q) =>
          this.one(fn, q).then(
            (ok) => ({ ok }),
            (err: unknown) => ({ err }),
          ),
        ),
      );
    if (qs.length === 1 || Date.now() - this.manyRefusedAt < RETRY_MANY_MS) return singly();
    let entries: ManyEntry[];
    try {
      entries = (await this.one(manyFn, [JSON.stringify(qs)])) as ManyEntry[];
      if (!Array.isArray(entries) || entries.length !== qs.length) throw new Error(`${manyFn} answered no array of ${qs.length}`);
    } catch (err) {
      if (unreachable(err)) throw err;
      this.manyRefusedAt = Date.now();
      return singly();
    }
    return entries.map((e) =>
      'answer' in e
        ? { ok: e.answer }
        : { err: new ProvenantError(toErrorCode(e.error.code) ?? 'PROV_ERR_ENDORSEMENT', String(e.error.message)) },
    );
  }
}
