/**
 * The paper's validation flow as the edge serves it: a device's owner (or the device, through its
 * edge) asks for a reading to be validated; the edge forwards the question to the provenance
 * auditor (`auditor:` in the config: POST {url}/validate), which checks the ledger, answers with
 * the evidence and updates the status in its provenance database. Without an auditor section the
 * edge runs the same auditor logic itself, over its own ledger client and provenance database.
 */
import type { AuditLocator, AuditResult, FollowedProvenance } from '../../../ledger-bridge/audit.js';
import { ProvenantError, toErrorCode } from '../../../shared/errors.js';

/** "seq:N" or "t:MS". */
const locatorText = (at: AuditLocator): string => ('seq' in at ? `seq:${at.seq}` : `t:${at.t}`);

/** The answer: one verdict per stored copy, and who gave it. */
export interface ValidationAnswer {
  readonly deviceId: string;
  readonly locator: string;
  /** 'auditor' (forwarded to the configured auditor) or 'edge' (checked here). */
  readonly via: 'auditor' | 'edge';
  readonly results: readonly AuditResult[];
}

/** Validates stored readings. */
export interface Validator {
  validate(deviceId: string, at: AuditLocator): Promise<ValidationAnswer>;
}

/** Forwards to a provenance auditor over HTTP. */
export class RemoteValidator implements Validator {
  readonly via = 'auditor' as const;
  private readonly base: string;
  constructor(
    url: string,
    private readonly token: string,
    private readonly edgeId: string,
    private readonly timeoutMs = 30_000,
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  async validate(deviceId: string, at: AuditLocator): Promise<ValidationAnswer> {
    let res: Response;
    try {
      res = await fetch(`${this.base}/validate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ deviceId, ...('seq' in at ? { seq: at.seq } : { timestamp: at.t }), askedBy: `edge:${this.edgeId}` }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new ProvenantError('PROV_ERR_AUDITOR_UNAVAILABLE', `auditor at ${this.base} unreachable: ${(err as Error).message}`, {
        deviceId,
      });
    }
    const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string; results?: AuditResult[]; locator?: string };
    if (!res.ok)
      throw new ProvenantError(
        toErrorCode(body.code) ?? 'PROV_ERR_AUDITOR_UNAVAILABLE',
        `auditor: ${body.message ?? `HTTP ${res.status}`}`,
        {
          deviceId,
        },
      );
    return { deviceId, locator: body.locator ?? locatorText(at), via: 'auditor', results: body.results ?? [] };
  }
}

/** Validates here, with the auditor's logic over the edge's ledger client and provenance database. */
export class LocalValidator implements Validator {
  readonly via = 'edge' as const;
  constructor(
    private readonly provenance: FollowedProvenance,
    private readonly edgeId: string,
  ) {}

  async validate(deviceId: string, at: AuditLocator): Promise<ValidationAnswer> {
    const results = await this.provenance.validate(deviceId, at, `edge:${this.edgeId}`);
    return { deviceId, locator: locatorText(at), via: 'edge', results };
  }
}
