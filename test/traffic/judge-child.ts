/**
 * Child process for the cross-process determinism test: reads a JSON array of cases
 * (run-case.ts) on stdin and prints the JSON array of their results.
 * Run as `node --import tsx test/traffic/judge-child.ts`.
 */
import { runCase, type Case } from './run-case.js';

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c: string) => (input += c));
process.stdin.on('end', () => {
  const cases = JSON.parse(input) as Case[];
  process.stdout.write(JSON.stringify(cases.map(runCase)));
});
