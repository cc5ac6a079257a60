/**
 * Child process for the cross-process determinism test: reads a JSON array of
 * { history, profile, thresholds } cases on stdin and prints the JSON array of judgements.
 * Run as `node --import tsx test/traffic/judge-child.ts`.
 */
import { judgeProfile, type Thresholds, type TrafficProfile } from '../../shared/traffic/model.js';

interface Case {
  history: TrafficProfile[];
  profile: TrafficProfile;
  thresholds: Thresholds;
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c: string) => (input += c));
process.stdin.on('end', () => {
  const cases = JSON.parse(input) as Case[];
  process.stdout.write(JSON.stringify(cases.map((c) => judgeProfile(c.history, c.profile, c.thresholds))));
});
