/**
 * Request body limits of the HTTP servers, each derived from the largest valid body of its routes
 * (never a round number): the ledger's from the largest valid batch
 * (ledger-bridge/embedded/http/server.ts LEDGER_BODY_LIMIT), the auditor's and the edge API's from
 * the largest valid JSON body they take (AUDITOR_BODY_LIMIT, EDGE_API_BODY_LIMIT). A body over a
 * limit is 413 PROV_ERR_TOO_LARGE (shared/http-errors.ts). Node only.
 */

/**
 * The limit for a server whose largest valid JSON body is `largest` and whose web console posts the
 * same fields as an URL-encoded form: three times its UTF-8 JSON bytes, since %XX is at most three
 * characters for each byte of a value, and JSON writes every value byte at least once.
 */
export function formAwareBodyLimit(largest: unknown): number {
  return 3 * Buffer.byteLength(JSON.stringify(largest), 'utf8');
}
