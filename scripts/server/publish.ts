/**
 * Publishes a folder of DICOM files into the static DICOMweb layout that OHIF reads with
 * `staticWado: true`, under a store folder (var/dicomweb by default):
 *
 *   studies/index.json                                       QIDO-RS study list (all studies)
 *   studies/<study>/study.json                               QIDO-RS attributes of one study
 *   studies/<study>/series/index.json                        QIDO-RS series list
 *   studies/<study>/series/<series>/metadata.json            WADO-RS metadata (DICOM JSON, all instances)
 *   studies/<study>/series/<series>/instances/<sop>/frames/<n>   raw pixel bytes of frame n
 *
 * Source files are only read, never modified. Re-publishing the same study replaces it.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DicomJsonDataset, DicomJsonValue, firstString, parseDicomInstance } from './dicom-json';

export interface PublishResult {
  studies: { studyInstanceUid: string; series: number; instances: number; description?: string }[];
  skippedFiles: { path: string; reason: string }[];
}

const STUDY_TAGS = ['00080005', '00080020', '00080030', '00080050', '00080090', '00081030', '00100010', '00100020', '00100030', '00100040', '0020000D', '00200010'];
const SERIES_TAGS = ['00080005', '00080021', '00080031', '00080060', '0008103E', '0020000D', '0020000E', '00200011'];

/** The URL path prefix (from the server root) under which the store is served. */
export const DICOMWEB_PREFIX = '/dicomweb';

export function listFiles(folder: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(folder).sort()) {
    const path = join(folder, name);
    const stats = statSync(path);
    if (stats.isDirectory()) out.push(...listFiles(path));
    else if (stats.isFile()) out.push(path);
  }
  return out;
}

function isDicomPart10(bytes: Uint8Array): boolean {
  return bytes.length > 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM';
}

interface SeriesAccumulator {
  instances: DicomJsonDataset[];
}
interface StudyAccumulator {
  first: DicomJsonDataset;
  series: Map<string, SeriesAccumulator>;
}

/** Publishes `files` (or every file under `sourceFolder`) into `storeDir`. */
export function publishDicom(source: string | string[], storeDir: string): PublishResult {
  const files = Array.isArray(source) ? source : listFiles(source);
  const studies = new Map<string, StudyAccumulator>();
  const skippedFiles: PublishResult['skippedFiles'] = [];
  const pending: { dir: string; frames: Uint8Array[] }[] = [];

  for (const path of files) {
    const bytes = new Uint8Array(readFileSync(path));
    if (!isDicomPart10(bytes)) {
      skippedFiles.push({ path, reason: 'not a DICOM Part 10 file' });
      continue;
    }
    try {
      const parsed = parseDicomInstance(bytes);
      const study = firstString(parsed.dataset, '0020000D') ?? '';
      const series = firstString(parsed.dataset, '0020000E') ?? '';
      const sop = firstString(parsed.dataset, '00080018') ?? '';
      if (!study || !series || !sop) throw new Error('missing Study/Series/SOP Instance UID');
      if (parsed.dataset['7FE00010']) {
        parsed.dataset['7FE00010'].BulkDataURI = `${DICOMWEB_PREFIX}/studies/${study}/series/${series}/instances/${sop}/frames/1`;
      }
      const studyAcc = studies.get(study) ?? { first: parsed.dataset, series: new Map() };
      studies.set(study, studyAcc);
      const seriesAcc = studyAcc.series.get(series) ?? { instances: [] };
      studyAcc.series.set(series, seriesAcc);
      seriesAcc.instances.push(parsed.dataset);
      if (parsed.frames.length) {
        pending.push({ dir: join(storeDir, 'studies', study, 'series', series, 'instances', sop, 'frames'), frames: parsed.frames });
      }
    } catch (error) {
      skippedFiles.push({ path, reason: (error as Error).message });
    }
  }

  const result: PublishResult = { studies: [], skippedFiles };
  for (const studyUid of studies.keys()) {
    rmSync(join(storeDir, 'studies', studyUid), { recursive: true, force: true });
  }
  for (const { dir, frames } of pending) {
    mkdirSync(dir, { recursive: true });
    frames.forEach((frame, index) => writeFileSync(join(dir, String(index + 1)), frame));
  }
  for (const [studyUid, study] of studies) {
    const studyDir = join(storeDir, 'studies', studyUid);
    const seriesList: DicomJsonDataset[] = [];
    const modalities = new Set<string>();
    let instanceCount = 0;
    for (const [seriesUid, series] of study.series) {
      series.instances.sort((a, b) => Number(firstString(a, '00200013') ?? 0) - Number(firstString(b, '00200013') ?? 0));
      const seriesDir = join(studyDir, 'series', seriesUid);
      mkdirSync(seriesDir, { recursive: true });
      writeFileSync(join(seriesDir, 'metadata.json'), JSON.stringify(series.instances));
      const first = series.instances[0];
      const modality = firstString(first, '00080060');
      if (modality) modalities.add(modality);
      instanceCount += series.instances.length;
      seriesList.push({
        ...pick(first, SERIES_TAGS),
        '00201209': { vr: 'IS', Value: [series.instances.length] },
        '00081190': { vr: 'UR', Value: [`${DICOMWEB_PREFIX}/studies/${studyUid}/series/${seriesUid}`] },
      });
    }
    seriesList.sort((a, b) => Number(firstString(a, '00200011') ?? 0) - Number(firstString(b, '00200011') ?? 0));
    writeFileSync(join(studyDir, 'series', 'index.json'), JSON.stringify(seriesList));
    const studyJson: DicomJsonDataset = {
      ...pick(study.first, STUDY_TAGS),
      '00080061': { vr: 'CS', Value: [...modalities].sort() },
      '00201206': { vr: 'IS', Value: [study.series.size] },
      '00201208': { vr: 'IS', Value: [instanceCount] },
      '00081190': { vr: 'UR', Value: [`${DICOMWEB_PREFIX}/studies/${studyUid}`] },
    };
    writeFileSync(join(studyDir, 'study.json'), JSON.stringify(studyJson));
    result.studies.push({
      studyInstanceUid: studyUid,
      series: study.series.size,
      instances: instanceCount,
      description: firstString(study.first, '00081030'),
    });
  }
  writeStudyIndex(storeDir);
  return result;
}

/** Rebuilds studies/index.json from every studies/<uid>/study.json in the store. */
export function writeStudyIndex(storeDir: string): DicomJsonDataset[] {
  const studiesDir = join(storeDir, 'studies');
  mkdirSync(studiesDir, { recursive: true });
  const list = readdirSync(studiesDir)
    .filter((name) => existsSync(join(studiesDir, name, 'study.json')))
    .map((name) => JSON.parse(readFileSync(join(studiesDir, name, 'study.json'), 'utf8')) as DicomJsonDataset);
  writeFileSync(join(studiesDir, 'index.json'), JSON.stringify(list));
  return list;
}

function pick(dataset: DicomJsonDataset, tags: string[]): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const tag of tags) {
    const value: DicomJsonValue | undefined = dataset[tag];
    if (value) out[tag] = value;
  }
  return out;
}
