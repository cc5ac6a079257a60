/**
 * HttpLedgerClient: the LedgerClient of a remote embedded ledger (`provenant ledger start`),
 * over fetch. Errors come back as the server's `{ code, message, details }` and are rethrown as
 * ProvenantError with the same code; events stream as NDJSON.
 */
import type { ChainHead, CommitResult, InclusionProof, LedgerClient, LedgerEvent, Proposal } from '../../client.js';
import { ProvenantError, toErrorCode } from '../../../shared/errors.js';
import type { ConsistencyProof } from '../proofs.js';

/** Where and as whom to connect. */
export interface HttpLedgerClientOptions {
  /** e.g. http://127.0.0.1:7050 */
  readonly url: string;
  readonly token: string;
  /**
   * The identity the token is bound to, sent as `x-provenant-identity`: the server refuses the
   * request (403) if the token acts as another. Optional: the token alone decides.
   */
  readonly identity?: string;
  /** Per-request timeout for everything but the event stream (default 30 s). */
  readonly timeoutMs?: number;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/** LedgerClient over the ledger's HTTP API. */
export class HttpLedgerClient implements LedgerClient {
  private readonly base: string;
  private readonly closing = new AbortController();

  constructor(private readonly options: HttpLedgerClientOptions) {
    if (typeof options.url !== 'string' || !/^https?:\/\//.test(options.url))
      throw new TypeError('HttpLedgerClient: url must start with http:// or https://');
    if (typeof options.token !== 'string' || options.token === '') throw new TypeError('HttpLedgerClient: token is required');
    this.base = options.url.replace(/\/+$/, '');
  }

  private headers(json: boolean): Record<string, string> {
    return {
      authorization: `Bearer ${this.options.token}`,
      ...(this.options.identity ? { 'x-provenant-identity': this.options.identity } : {}),
      ...(json ? { 'content-type': 'application/json' } : {}),
    };
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    if (this.closing.signal.aborted) throw new ProvenantError('PROV_ERR_LEDGER_CLOSED', 'this HttpLedgerClient is closed');
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: this.headers(body !== undefined),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.options.timeoutMs ?? 30_000)]),
      });
    } catch (err) {
      throw new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', `ledger at ${this.base} unreachable: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      throw new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', `ledger answered ${res.status} with a non-JSON body`);
    }
    if (!res.ok) {
      const e = (parsed ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
      throw new ProvenantError(toErrorCode(e.code) ?? 'PROV_ERR_LEDGER_UNAVAILABLE', e.message ?? `HTTP ${res.status}`, {
        ...(e.details ?? {}),
        ...(typeof e.code === 'string' && toErrorCode(e.code) !== e.code ? { remoteCode: e.code } : {}),
        status: res.status,
      });
    }
    return parsed as T;
  }

  async submit(proposal: Proposal): Promise<CommitResult> {
    const transient = proposal.transient ? Object.fromEntries(Object.entries(proposal.transient).map(([k, v]) => [k, b64(v)])) : undefined;
    const r = await this.call<{ txId: string; blockNumber: number; result: string }>('POST', '/v1/submit', {
      contract: proposal.contract,
      fn: proposal.fn,
      args: proposal.args,
      ...(transient ? { transient } : {}),
    });
    return { txId: r.txId, blockNumber: r.blockNumber, result: unb64(r.result) };
  }

  async evaluate(proposal: Omit<Proposal, 'transient'>): Promise<Uint8Array> {
    const r = await this.call<{ result: string }>('POST', '/v1/evaluate', {
      contract: proposal.contract,
      fn: proposal.fn,
      args: proposal.args,
    });
    return unb64(r.result);
  }

  head(): Promise<ChainHead> {
    return this.call<ChainHead>('GET', '/v1/head');
  }

  inclusionProof(txId: string): Promise<InclusionProof> {
    return this.call<InclusionProof>('GET', `/v1/proofs/inclusion/${encodeURIComponent(txId)}`);
  }

  /** Evidence that the current chain (or the one at `toHeight`) extends the one at `fromHeight`. */
  consistencyProof(fromHeight: number, toHeight?: number): Promise<ConsistencyProof> {
    return this.call<ConsistencyProof>(
      'GET',
      `/v1/proofs/consistency?from=${fromHeight}${toHeight === undefined ? '' : `&to=${toHeight}`}`,
    );
  }

  async *events(options: { startBlock?: number; signal?: AbortSignal; follow?: boolean }): AsyncGenerator<LedgerEvent> {
    const signal = AbortSignal.any([this.closing.signal, ...(options.signal ? [options.signal] : [])]);
    const q = `startBlock=${options.startBlock ?? 0}${options.follow === false ? '&follow=false' : ''}`;
    let res: Response;
    try {
      res = await fetch(`${this.base}/v1/events?${q}`, { headers: this.headers(false), signal });
    } catch (err) {
      if (signal.aborted) return;
      throw new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', `ledger at ${this.base} unreachable: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (!res.ok || !res.body) {
      const e = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
      throw new ProvenantError(toErrorCode(e.code) ?? 'PROV_ERR_LEDGER_UNAVAILABLE', e.message ?? `HTTP ${res.status}`);
    }
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf('\n')) !== -1) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.trim() === '') continue;
          const e = JSON.parse(line) as { blockNumber: number; txId: string; contract: string; name: string; payload: string };
          yield { blockNumber: e.blockNumber, txId: e.txId, contract: e.contract, name: e.name, payload: unb64(e.payload) };
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', `event stream from ${this.base} broke: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
  }
}
