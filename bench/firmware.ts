/**
 * `provenant bench firmware`: the board's side of the cost (BRIEF §10, "device work per
 * reading"). Per board profile: the bundle's bytes against its budget; then, running each
 * BUILT bundle in the simulated board, per reading: SHA-256 invocations, bytes hashed, flash
 * writes and the wall time the firmware spent (V8 on this machine — an Espruino interpreter is
 * far slower, the invocation and byte counts are what carry over). Side by side: the peer, the
 * device signing every reading itself (a BBS ProofGen over its credential on mcl-wasm — the
 * paper's "without outsourcing"), measured in the same run. Last line: JSON.
 */
import type { Command } from 'commander';

interface BoardFigures {
  bundleBytes: number;
  sizeBudget: number;
  /** Estimated Espruino variables at rest and at peak (firmware/variables.ts, a model). */
  variablesAtRest: number;
  variablesPeak: number;
  readings: number;
  sha256PerReading: number;
  bytesHashedPerReading: number;
  flashWritesPerReading: number;
  wallUsPerReading: number;
}

export async function measureBoard(
  board: string,
  readings: number,
): Promise<Omit<BoardFigures, 'bundleBytes' | 'sizeBudget' | 'variablesAtRest' | 'variablesPeak'>> {
  const { startSimBoard } = await import('../hardware/sim/index.js');
  const { decodeMessage, encodeMessage } = await import('../shared/wire/union.js');
  const { FrameDecoder } = await import('../shared/wire/frame.js');
  const { loadBoard } = await import('../firmware/boards.js');
  const profile = loadBoard(board);
  const key = Buffer.alloc(32, 7).toString('base64');
  const b = await startSimBoard({
    board,
    clockSpeedup: 50,
    provisioning: { deviceId: `bench-${board.toLowerCase()}`, key, intervalMs: 100, sensors: profile.sensors },
  });
  const dec = new FrameDecoder();
  let seen = 0;
  b.board.onOutput((chunk) => {
    for (const f of dec.push(chunk)) {
      const m = decodeMessage(f);
      if (m.kind === 'HELLO')
        b.board.hostWrite(
          encodeMessage({
            kind: 'PARTIAL',
            epoch: 1,
            partialDigest: new Uint8Array(32).fill(1),
            edgeTimeMs: Date.now(),
            intervalMs: 100,
            maxPerMinute: 0,
          }),
        );
      if (m.kind === 'READING') {
        seen++;
        b.board.hostWrite(encodeMessage({ kind: 'ACK', seq: m.reading.seq }));
      }
    }
  });
  b.reboot();
  // Warm up, then measure over exactly `readings` readings.
  while (seen < 20) await new Promise((r) => setTimeout(r, 5));
  const s0 = { ...b.stats, writes: b.storage.writes, seen };
  while (seen < s0.seen + readings) await new Promise((r) => setTimeout(r, 5));
  const n = seen - s0.seen;
  const s1 = { ...b.stats, writes: b.storage.writes };
  await b.stop();
  if (s1.uncaught.length > 0) throw new Error(`${board}: firmware threw: ${s1.uncaught[0]}`);
  return {
    readings: n,
    sha256PerReading: (s1.sha256Calls - s0.sha256Calls) / n,
    bytesHashedPerReading: (s1.sha256Bytes - s0.sha256Bytes) / n,
    flashWritesPerReading: (s1.writes - s0.writes) / n,
    wallUsPerReading: ((s1.busyMs - s0.busyMs) * 1000) / n,
  };
}

/**
 * The peer and our crypto, measured interleaved (round by round, medians) so machine load hits
 * both alike: one BBS ProofGen vs a burst of "2 SHA-256 over the reading's HMAC input".
 */
async function measureCrypto(
  rounds: number,
  hashedBytes: number,
): Promise<{ proofGenUs: number; cryptoUs: number; ratio: number; messages: number } | { error: string; cryptoUs: number }> {
  const { createHash } = await import('node:crypto');
  const buf = Buffer.alloc(Math.max(1, Math.round(hashedBytes / 2)), 1);
  const burst = 2000;
  const sha = (): number => {
    const t0 = performance.now();
    for (let i = 0; i < burst; i++) createHash('sha256').update(buf).digest();
    return ((performance.now() - t0) * 1000 * 2) / burst; // µs for two runs
  };
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  try {
    const bbs = await import('../shared/crypto/bbs.js');
    await bbs.ready();
    const enc = new TextEncoder();
    const sk = bbs.keyGen(new Uint8Array(32).fill(9));
    const pk = bbs.skToPk(sk);
    const header = enc.encode('provenant-bench');
    const messages = ['bench-device', 'plant-3', 'line-2', 'temperature', 'owner', 'fw-0.1.0'].map((m) => enc.encode(m));
    const sig = bbs.sign(sk, pk, header, messages);
    bbs.proofGen(pk, sig, header, enc.encode('ph'), messages, [0, 1, 3]);
    sha();
    const pg: number[] = [];
    const ours: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      bbs.proofGen(pk, sig, header, enc.encode(`ph-${i}`), messages, [0, 1, 3]);
      const p = (performance.now() - t0) * 1000;
      const o = sha();
      pg.push(p);
      ours.push(o);
      ratios.push(p / o);
    }
    return { proofGenUs: median(pg), cryptoUs: median(ours), ratio: median(ratios), messages: messages.length };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e), cryptoUs: sha() };
  }
}

/** The sample path's pieces and the ES5 scalar multiplication in V8 and on Espruino's interpreter, printed. */
async function measureInterpreters(opts: {
  readings: number;
  ecRuns: number;
  cpuReadings: number;
  espruino: boolean;
}): Promise<{ v8Workload: unknown; espruino: unknown }> {
  const { measureEspruino, measureV8 } = await import('./firmware/espruino.js');
  const v8 = await measureV8({ readings: 2000, ecRuns: 5 });
  type Row = {
    reading: { encodeUs: number; hmacUs: number; frameUs: number; storeUs: number };
    samplePathUs: number;
    ecMs: number;
    ecPerHmac: number;
    ecPerSamplePath: number;
  };
  const row = (name: string, f: Row): string =>
    `${name.padEnd(9)} ${f.reading.encodeUs.toFixed(1).padStart(9)} ${f.reading.hmacUs.toFixed(1).padStart(9)} ${f.reading.frameUs.toFixed(1).padStart(9)} ${f.samplePathUs.toFixed(1).padStart(11)} ${f.reading.storeUs.toFixed(1).padStart(10)}  ${f.ecMs.toFixed(1).padStart(10)}  ${f.ecPerHmac.toFixed(0).padStart(8)}× ${f.ecPerSamplePath.toFixed(0).padStart(8)}×\n`;
  process.stdout.write(
    `\nthe sample path's pieces (the firmware's code, bundled by its pipeline; ${v8.reading.canonicalBytes}-byte reading v2, ${v8.reading.sha256PerReading} SHA-256 runs over ${v8.reading.bytesHashedPerReading} bytes, ${v8.reading.frameBytes}-byte frame) vs one BLS12-381 G1 scalar multiplication k·G in ES5:\n` +
      'engine     encode µs   HMAC µs  frame µs  path µs sum  Storage µs    k·G (ms)  k·G/HMAC  k·G/path\n' +
      row('V8', v8),
  );
  const { point, ...v8Workload } = v8;
  if (!opts.espruino) return { v8Workload, espruino: { skipped: '--no-espruino' } };
  const es = await measureEspruino({ readings: opts.readings, ecRuns: opts.ecRuns, cpuReadings: opts.cpuReadings, point });
  if ('unavailable' in es) {
    process.stdout.write(`Espruino   (skipped: ${es.unavailable})\n`);
    return { v8Workload, espruino: es };
  }
  process.stdout.write(
    row('Espruino', es) +
      `Espruino's wall times at load ${es.load.toFixed(1)} (2 cores); its CPU time from the OS, which load does not inflate: ${es.cpu.perReadingMs.toFixed(2)} ms per reading (encode, HMAC, frame), ${(es.cpu.ecMs / 1000).toFixed(1)} s per k·G → k·G = ${es.cpu.ecPerReading.toFixed(0)}× a reading\n` +
      `Espruino / V8 (wall): sample path ${(es.samplePathUs / v8.samplePathUs).toFixed(0)}×, HMAC ${(es.reading.hmacUs / v8.reading.hmacUs).toFixed(0)}×, k·G ${(es.ecMs / v8.ecMs).toFixed(0)}×\n` +
      '(a BBS signature needs several scalar multiplications, so one is a lower bound on signing each reading on the board: the edge does that part)\n',
  );
  return { v8Workload, espruino: es };
}

export function register(bench: Command): void {
  bench
    .command('firmware')
    .description(
      "firmware bundle sizes and per-reading device work in the simulated board and on Espruino's interpreter, vs signing on the device",
    )
    .option('--readings <n>', 'readings measured per board', '200')
    .option('--peer-iterations <n>', 'interleaved rounds of BBS ProofGen vs SHA-256 for the peer figure', '20')
    .option('--espruino-readings <n>', 'readings per burst on the interpreter (a burst before and after each scalar multiplication)', '50')
    .option('--ec-runs <n>', 'ES5 scalar multiplications on the interpreter (each ~25 s of CPU on this machine)', '1')
    .option('--cpu-readings <n>', 'readings of the interpreter run that measures CPU per reading', '200')
    .option('--no-espruino', "skip Espruino's interpreter")
    .action(
      async (opts: {
        readings: string;
        peerIterations: string;
        espruinoReadings: string;
        ecRuns: string;
        cpuReadings: string;
        espruino: boolean;
      }) => {
        const readings = Math.max(10, Number(opts.readings) || 200);
        const { buildFirmware } = await import('../firmware/build.js');
        const built = await buildFirmware();
        const boards: Record<string, BoardFigures> = {};
        process.stdout.write(
          'board     bundle  budget  vars rest/peak  SHA-256/reading  bytes hashed/reading  flash writes/reading  firmware wall time/reading (V8)\n',
        );
        for (const b of built) {
          const m = await measureBoard(b.board, readings);
          boards[b.board] = {
            bundleBytes: b.bytes,
            sizeBudget: b.sizeBudget,
            variablesAtRest: b.variables.atRest,
            variablesPeak: b.variables.peak,
            ...m,
          };
          process.stdout.write(
            `${b.board.padEnd(8)} ${String(b.bytes).padStart(7)} ${String(b.sizeBudget).padStart(7)}  ${`${b.variables.atRest}/${b.variables.peak}`.padStart(14)}  ${m.sha256PerReading.toFixed(2).padStart(15)}  ${m.bytesHashedPerReading.toFixed(1).padStart(20)}  ${m.flashWritesPerReading.toFixed(2).padStart(20)}  ${m.wallUsPerReading.toFixed(1).padStart(12)} µs\n`,
          );
        }
        const ours = Object.values(boards);
        const pathUs = ours.reduce((n, b) => n + b.wallUsPerReading, 0) / ours.length;
        const hashedBytes = ours.reduce((n, b) => n + b.bytesHashedPerReading, 0) / ours.length;
        const peer = await measureCrypto(Math.max(3, Number(opts.peerIterations) || 20), hashedBytes);
        const cryptoUs = peer.cryptoUs;
        let ratios: { crypto: number; path: number } | null = null;
        if ('error' in peer) {
          process.stdout.write(`peer (BBS ProofGen per reading on the device) unavailable: ${peer.error}\n`);
        } else {
          ratios = { crypto: peer.ratio, path: peer.proofGenUs / pathUs };
          process.stdout.write(
            `peer  signing on the device: one BBS ProofGen per reading (${peer.messages} attributes, mcl-wasm, this machine): ${peer.proofGenUs.toFixed(0)} µs/reading (median)\n` +
              `ours  crypto per reading: 2 native SHA-256 over ${hashedBytes.toFixed(0)} bytes in total: ${cryptoUs.toFixed(2)} µs (median)  → ${ratios.crypto.toFixed(0)}× less (median of interleaved rounds)\n` +
              `ours  whole firmware path in the simulated board (encode, HMAC, frame, ring, flash): ${pathUs.toFixed(1)} µs  → ${ratios.path.toFixed(0)}× less\n` +
              '      (on an Espruino board SHA256 stays native while ProofGen would run interpreted: the gap there is wider)\n',
          );
        }
        // Epoch signatures (issue 16): each board's bundle built with them, in the simulated board.
        const { measureLmsBoard, measureLmsInterpreter } = await import('./firmware-lms.js');
        const lmsBoards: Record<string, Awaited<ReturnType<typeof measureLmsBoard>>> = {};
        process.stdout.write(
          '\nepoch signatures (bundle built with epochSignatures; simulated board, key sets made in Node in the board layout):\n' +
            'board     bundle  budget  SHA-256/reading (plain)  SHA-256/signature  SIG frames/epoch  wire bytes/epoch  Storage bytes\n',
        );
        for (const b of built) {
          const f = await measureLmsBoard(b.board, readings, boards[b.board]?.sha256PerReading ?? 0);
          lmsBoards[b.board] = f;
          process.stdout.write(
            `${b.board.padEnd(8)} ${String(f.bundleBytes).padStart(7)} ${String(f.sizeBudget).padStart(7)}  ${`${f.sha256PerReading.toFixed(2)} (${f.sha256PerReadingPlain.toFixed(2)})`.padStart(23)}  ${String(f.sha256PerSignature).padStart(17)}  ${f.sigFramesPerEpoch.toFixed(0).padStart(16)}  ${f.wireBytesPerEpoch.toFixed(0).padStart(16)}  ${String(f.storageBytes).padStart(13)}\n`,
          );
        }
        const lmsEspruino = opts.espruino ? await measureLmsInterpreter() : { unavailable: '--no-espruino' };
        if ('unavailable' in lmsEspruino)
          process.stdout.write(`epoch signatures on Espruino's interpreter: skipped (${lmsEspruino.unavailable})\n`);
        else
          process.stdout.write(
            `epoch signatures on Espruino's interpreter (LINUX bundle, load ${lmsEspruino.load.toFixed(1)}): SHA-256 per reading ${lmsEspruino.sha256PerReading.toFixed(2)}; per signature ${lmsEspruino.sha256Calls.join(', ')} calls in ${lmsEspruino.ms.join(', ')} ms (wall)\n`,
          );
        const interp = await measureInterpreters({
          readings: Math.max(5, Number(opts.espruinoReadings) || 50),
          ecRuns: Math.max(1, Number(opts.ecRuns) || 1),
          cpuReadings: Math.max(20, Number(opts.cpuReadings) || 200),
          espruino: opts.espruino,
        });
        process.stdout.write(
          `${JSON.stringify({ bench: 'firmware', readingsPerBoard: readings, boards, cryptoUsPerReading: cryptoUs, pathUsPerReading: pathUs, peer, ratios, epochSignatures: { boards: lmsBoards, espruino: lmsEspruino }, ...interp })}\n`,
        );
      },
    );
}
