/**
 * HttpLedgerClient: the LedgerClient of a remote embedded ledger (`provenant ledger start`),
 * over HTTP (node:http with kept-alive connections; the event stream over fetch). Errors come back
 * as the server's `{ code, message, details }` and are rethrown as ProvenantError with the same
 * code; events stream as NDJSON.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  textArgs,
  type ChainHead,
  type CommitResult,
  type InclusionProof,
  type LedgerClient,
  type LedgerEvent,
  type Proposal,
} from '../../client.js';
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
  private readonly url: URL;
  /** The URL's path (a ledger behind a path prefix), without its trailing slash. */
  private readonly prefix: string;
  /** Connections kept open between requests (as fetch does). */
  private readonly agent: HttpAgent;
  /** Requests under way (destroyed by close()). */
  private readonly active = new Set<ClientRequest>();

  constructor(private readonly options: HttpLedgerClientOptions) {
    if (typeof options.url !== 'string' || !/^https?:\/\//.test(options.url))
      throw new TypeError('HttpLedgerClient: url must start with http:// or https://');
    if (typeof options.token !== 'string' || options.token === '') throw new TypeError('HttpLedgerClient: token is required');
    this.base = options.url.replace(/\/+$/, '');
    this.url = new URL(this.base);
    this.prefix = this.url.pathname.replace(/\/+$/, '');
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  private headers(json: boolean): Record<string, string> {
    return {
      authorization: `Bearer ${this.options.token}`,
      ...(this.options.identity ? { 'x-provenant-identity': this.options.identity } : {}),
      ...(json ? { 'content-type': 'application/json' } : {}),
    };
  }

  /** One HTTP exchange; the error says whether it went out on a reused connection. */
  private exchange(
    method: string,
    path: string,
    payload: Buffer | undefined,
    timeoutMs: number,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = (this.url.protocol === 'https:' ? httpsRequest : httpRequest)(
        this.url,
        {
          method,
          path: this.prefix + path,
          agent: this.agent,
          headers: { ...this.headers(payload !== undefined), ...(payload ? { 'content-length': String(payload.length) } : {}) },
        },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => {
            settle();
            resolve({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
          r.on('error', fail);
          r.on('aborted', () => fail(new Error('the answer was cut off')));
        },
      );
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      const active = this.active;
      active.add(req);
      function settle(): void {
        clearTimeout(timer);
        active.delete(req);
      }
      function fail(err: Error): void {
        settle();
        reject(Object.assign(err, { reused: req.reusedSocket }));
      }
      req.on('error', fail);
      req.end(payload);
    });
  }

  /**
   * One request over a kept-alive connection (node:http, not fetch: undici's fetch, its web
   * streams and abort signals were ~20 % of an auditor's CPU answering 450 questions/s in the
   * paper's Fig. 8, docs/evaluation.md). The event stream below stays on fetch.
   */
  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    if (this.closing.signal.aborted) throw new ProvenantError('PROV_ERR_LEDGER_CLOSED', 'this HttpLedgerClient is closed');
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    let res: { status: number; text: string };
    try {
      res = await this.exchange(method, path, payload, timeoutMs).catch((err: Error & { reused?: boolean; code?: string }) => {
        // The server closed a kept-alive connection as this request went out on it: sent again
        // once on a fresh one (Node's documented remedy; nothing was processed).
        if (err.reused === true && err.code === 'ECONNRESET' && !this.closing.signal.aborted)
          return this.exchange(method, path, payload, timeoutMs);
        throw err;
      });
    } catch (err) {
      throw new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', `ledger at ${this.base} unreachable: ${(err as Error).message}`, {
        cause: err,
      });
    }
    let parsed: unknown;
    try {
      parsed = res.text === '' ? null : JSON.parse(res.text);
    } catch {
      throw new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', `ledger answered ${res.status} with a non-JSON body`);
    }
    if (res.status < 200 || res.status > 299) {
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
      // The HTTP API carries text arguments: bytes go as base64, which the functions taking bytes accept.
      args: textArgs(proposal.args),
      ...(transient ? { transient } : {}),
    });
    return { txId: r.txId, blockNumber: r.blockNumber, result: unb64(r.result) };
  }

  async evaluate(proposal: Omit<Proposal, 'transient'>): Promise<Uint8Array> {
    const r = await this.call<{ result: string }>('POST', '/v1/evaluate', {
      contract: proposal.contract,
      fn: proposal.fn,
      args: textArgs(proposal.args),
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
    for (const req of this.active) req.destroy(new Error('the client was closed'));
    this.agent.destroy();
  }
}
