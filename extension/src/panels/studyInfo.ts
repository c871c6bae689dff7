/**
 * Reads what the panel shows about the open study from OHIF's services: the display sets the
 * viewer built, and (for series the viewer cannot display, e.g. a study with only SR/SEG) the
 * data source's QIDO series search. Untyped OHIF objects stop here; the rest sees SeriesSummary.
 */
import type { SeriesSummary } from './readiness';

export interface StudySummary {
  studyInstanceUid?: string;
  patientName?: string;
  description?: string;
  date?: string;
}

// OHIF objects are untyped JavaScript; we read fields defensively.
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface OhifContext {
  servicesManager: Loose;
  extensionManager: Loose;
}

export function currentStudyUid(context: OhifContext): string | undefined {
  const fromUrl = new URLSearchParams(globalThis.location?.search ?? '').get('StudyInstanceUIDs')?.split(',')[0];
  if (fromUrl) return fromUrl;
  const sets: Loose[] = context.servicesManager.services.displaySetService?.getActiveDisplaySets?.() ?? [];
  return sets[0]?.StudyInstanceUID;
}

export function seriesFromDisplaySets(displaySets: Loose[], studyUid?: string): SeriesSummary[] {
  return displaySets
    .filter((ds) => !studyUid || ds.StudyInstanceUID === studyUid)
    .map((ds) => ({
      seriesInstanceUid: String(ds.SeriesInstanceUID ?? ''),
      modality: String(ds.Modality ?? ''),
      description: ds.SeriesDescription || undefined,
      numberOfImages: Number(ds.numImageFrames ?? ds.images?.length ?? ds.instances?.length ?? 0),
      isReconstructable: typeof ds.isReconstructable === 'boolean' ? ds.isReconstructable : undefined,
    }));
}

/** QIDO series of the study, for series that produced no display set (SR, SEG, RWV, ...). */
export async function seriesFromDataSource(context: OhifContext, studyUid: string): Promise<SeriesSummary[]> {
  const dataSource = context.extensionManager.getActiveDataSource?.()?.[0];
  const results: Loose[] = (await dataSource?.query?.series?.search?.(studyUid)) ?? [];
  return results.map((s) => ({
    seriesInstanceUid: String(s.seriesInstanceUid ?? s.SeriesInstanceUID ?? ''),
    modality: String(s.modality ?? s.Modality ?? ''),
    description: s.description ?? s.SeriesDescription ?? undefined,
    numberOfImages: Number(s.numSeriesInstances ?? s.NumberOfSeriesRelatedInstances ?? 0),
  }));
}

/** Display-set series win (they know reconstructability); QIDO fills in the rest. */
export function mergeSeries(fromDisplaySets: SeriesSummary[], fromQido: SeriesSummary[]): SeriesSummary[] {
  const known = new Set(fromDisplaySets.map((s) => s.seriesInstanceUid));
  return [...fromDisplaySets, ...fromQido.filter((s) => !known.has(s.seriesInstanceUid))];
}

export function studyFromDisplaySets(displaySets: Loose[], studyUid?: string): StudySummary {
  const instance: Loose | undefined = displaySets.find((ds) => !studyUid || ds.StudyInstanceUID === studyUid)?.instances?.[0];
  if (!instance) return { studyInstanceUid: studyUid };
  const name = instance.PatientName;
  return {
    studyInstanceUid: studyUid ?? instance.StudyInstanceUID,
    patientName: typeof name === 'object' && name ? name.Alphabetic : name,
    description: instance.StudyDescription,
    date: instance.StudyDate,
  };
}

export async function studyFromDataSource(context: OhifContext, studyUid: string): Promise<StudySummary> {
  const dataSource = context.extensionManager.getActiveDataSource?.()?.[0];
  const [study]: Loose[] = (await dataSource?.query?.studies?.search?.({ studyInstanceUid: studyUid })) ?? [];
  if (!study) return { studyInstanceUid: studyUid };
  return { studyInstanceUid: studyUid, patientName: study.patientName, description: study.description, date: study.date };
}
