/**
 * Answers DICOMweb requests (QIDO-RS search, WADO-RS metadata and frames) from the static store
 * written by publish.ts. Searching is done here on the study/series index files, so OHIF's QIDO
 * filters (StudyInstanceUID, PatientID, PatientName, ModalitiesInStudy, limit/offset) work.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DicomJsonDataset } from './dicom-json';
import { SERVED_TRANSFER_SYNTAX, firstString } from './dicom-json';
import { MAX_MATCH_VALUE_LENGTH, wildcardMatch } from './wildcard';

export type StoreResponse =
  | { status: 200; contentType: string; body: Buffer | string }
  | { status: 204 | 400 | 404; contentType: string; body: string };

const UID = /^[0-9.]{1,64}$/;

const notFound = (what: string): StoreResponse => ({
  status: 404,
  contentType: 'application/json',
  body: JSON.stringify({ error: `${what} is not in the local DICOMweb store.` }),
});

const json = (value: unknown): StoreResponse => ({ status: 200, contentType: 'application/dicom+json', body: JSON.stringify(value) });

/** `path` is the part after /dicomweb (e.g. "/studies/1.2/series"). */
export function handleStoreRequest(storeDir: string, path: string, query: URLSearchParams): StoreResponse {
  const parts = path.split('/').filter(Boolean);
  if (parts[0] !== 'studies') return notFound(`"${path}"`);
  const [, study, level2, series, level4, sop, level6, frame] = parts;
  for (const uid of [study, series, sop]) {
    if (uid !== undefined && !UID.test(uid)) return { status: 400, contentType: 'application/json', body: JSON.stringify({ error: `"${uid}" is not a DICOM UID.` }) };
  }
  const queryProblem = checkQuery(query);
  if (queryProblem) return { status: 400, contentType: 'application/json', body: JSON.stringify(queryProblem) };
  const studyDir = study ? join(storeDir, 'studies', study) : '';
  if (study && !existsSync(join(studyDir, 'study.json'))) return notFound(`Study ${study}`);

  if (parts.length === 1) return json(searchStudies(storeDir, query));
  if (parts.length === 2) return json(readJson(join(studyDir, 'study.json')));
  if (level2 === 'metadata' && parts.length === 3) {
    return json(seriesUids(studyDir).flatMap((uid) => readJson(join(studyDir, 'series', uid, 'metadata.json')) as DicomJsonDataset[]));
  }
  if (level2 !== 'series') return notFound(`"${path}"`);
  if (parts.length === 3) return json(filterDatasets(readJson(join(studyDir, 'series', 'index.json')) as DicomJsonDataset[], query));
  const seriesDir = join(studyDir, 'series', series);
  if (!existsSync(join(seriesDir, 'metadata.json'))) return notFound(`Series ${series}`);
  const metadata = () => readJson(join(seriesDir, 'metadata.json')) as DicomJsonDataset[];
  if (parts.length === 4) return json((readJson(join(studyDir, 'series', 'index.json')) as DicomJsonDataset[]).filter((s) => firstString(s, '0020000E') === series));
  if (level4 === 'metadata' && parts.length === 5) return json(metadata());
  if (level4 !== 'instances') return notFound(`"${path}"`);
  if (parts.length === 5) return json(filterDatasets(metadata().map(instanceAttributes), query));
  if (parts.length === 7 && level6 === 'metadata') {
    const instance = metadata().filter((d) => firstString(d, '00080018') === sop);
    return instance.length ? json(instance) : notFound(`Instance ${sop}`);
  }
  if (parts.length === 8 && level6 === 'frames' && /^[0-9]+$/.test(frame)) {
    const framePath = join(seriesDir, 'instances', sop, 'frames', frame);
    if (!existsSync(framePath)) return notFound(`Frame ${frame} of instance ${sop}`);
    return {
      status: 200,
      contentType: `application/octet-stream; transfer-syntax=${SERVED_TRANSFER_SYNTAX}`,
      body: readFileSync(framePath),
    };
  }
  return notFound(`"${path}"`);
}

export function searchStudies(storeDir: string, query: URLSearchParams): DicomJsonDataset[] {
  const indexPath = join(storeDir, 'studies', 'index.json');
  const all = existsSync(indexPath) ? (readJson(indexPath) as DicomJsonDataset[]) : [];
  return filterDatasets(all, query);
}

/** QIDO keys we filter on, by keyword and by tag. Unknown keys (includefield, fuzzymatching) are ignored. */
const FILTER_TAGS: Record<string, string> = {
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
  PatientID: '00100020',
  PatientName: '00100010',
  AccessionNumber: '00080050',
  StudyDescription: '00081030',
  ModalitiesInStudy: '00080061',
  Modality: '00080060',
  StudyDate: '00080020',
};

/** Most alternatives in one matching key (a list of UIDs, "a,b,c"). */
const MAX_ALTERNATIVES = 500;

function alternativesOf(wanted: string): string[] {
  return wanted.split(/[,\\]/).filter(Boolean);
}

/** Refuses query values the matcher would not take, naming the key and the limit. */
export function checkQuery(query: URLSearchParams): { error: string; hint: string } | undefined {
  for (const [keyword, tag] of Object.entries(FILTER_TAGS)) {
    const wanted = query.get(keyword) ?? query.get(tag);
    if (!wanted) continue;
    const alternatives = alternativesOf(wanted);
    if (alternatives.length > MAX_ALTERNATIVES) {
      return { error: `${keyword} lists ${alternatives.length} values; at most ${MAX_ALTERNATIVES} are matched.`, hint: 'Search in smaller groups.' };
    }
    if (alternatives.some((alternative) => alternative.length > MAX_MATCH_VALUE_LENGTH)) {
      return { error: `A ${keyword} value is longer than ${MAX_MATCH_VALUE_LENGTH} characters.`, hint: 'Search with a shorter value or a wildcard (*).' };
    }
  }
  return undefined;
}

/** A non-negative integer query parameter, or the fallback. */
function count(value: string | null, fallback: number): number {
  const number = Number(value ?? '');
  return value !== null && Number.isInteger(number) && number >= 0 ? number : fallback;
}

export function filterDatasets(datasets: DicomJsonDataset[], query: URLSearchParams): DicomJsonDataset[] {
  let result = datasets;
  for (const [keyword, tag] of Object.entries(FILTER_TAGS)) {
    const wanted = query.get(keyword) ?? query.get(tag);
    if (!wanted) continue;
    result = result.filter((dataset) => matches(dataset, tag, wanted));
  }
  const offset = count(query.get('offset'), 0);
  const limit = count(query.get('limit'), 0) || result.length;
  return result.slice(offset, offset + limit);
}

function matches(dataset: DicomJsonDataset, tag: string, wanted: string): boolean {
  const values = (dataset[tag]?.Value ?? []).map((v) =>
    typeof v === 'object' && v !== null && 'Alphabetic' in v ? String((v as { Alphabetic: string }).Alphabetic) : String(v),
  );
  if (tag === '00080020' && wanted.includes('-')) {
    const [from, to] = wanted.split('-');
    return values.some((v) => (!from || v >= from) && (!to || v <= to));
  }
  // UID lists: "a,b" or "a\b"; other values: case-insensitive with * and ? wildcards.
  return alternativesOf(wanted).some((alternative) => values.some((value) => wildcardMatch(alternative, value)));
}

function instanceAttributes(dataset: DicomJsonDataset): DicomJsonDataset {
  const keep = ['00080016', '00080018', '00200013', '00280010', '00280011', '0020000D', '0020000E'];
  return Object.fromEntries(keep.filter((t) => dataset[t]).map((t) => [t, dataset[t]]));
}

function seriesUids(studyDir: string): string[] {
  const dir = join(studyDir, 'series');
  return readdirSync(dir).filter((name) => UID.test(name) && existsSync(join(dir, name, 'metadata.json')));
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}
