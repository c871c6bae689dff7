/**
 * The labelmap as a DICOM SEG, written by rt-liver's own SEG writer (core/seg; not the host's
 * export, whose output fails dciodvfy), against the CT instances' metadata that OHIF already holds
 * (naturalized WADO-RS metadata: identity, study and plane attributes; nothing is downloaded again).
 * Then saved as a file, or sent by STOW-RS to the study's data source when it accepts stores.
 */
import { RtLiverError } from '../core/errors';
import type { ModelEntry } from '../core/model/manifest';
import type { Volume } from '../core/volume';
import { writeLiverSegInWorker } from '../core/seg/write-seg-worker';
import { EXTENSION_VERSION } from '../id';
import { startSegWriterWorker } from './segmentation-worker-url';

// OHIF objects are untyped JavaScript.
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface SegDocument {
  bytes: ArrayBuffer;
  sopInstanceUID: string;
  seriesInstanceUID: string;
  studyInstanceUID: string;
  frameCount: number;
  algorithmType: 'AUTOMATIC' | 'SEMIAUTOMATIC';
}

export interface WriteSegRequest {
  /** The CT display set's instances (OHIF's metadata of each image). */
  instances: Loose[];
  /** Read from the labelmap for this SEG: its buffer is handed to the writer's worker. */
  mask: Volume<Uint8Array>;
  model: ModelEntry;
  edited: boolean;
  uids: { sopInstanceUID: string; seriesInstanceUID: string };
}

/**
 * The instance's DICOM attributes (keywords start with a capital) as plain data that can be copied to a
 * worker: OHIF's instances also carry runtime fields and functions, which postMessage cannot copy.
 */
function sourceMetadata(instance: Loose): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(instance)) {
    if (/^[A-Z]/.test(key) && typeof value !== 'function') copy[key] = plainData(value);
  }
  return copy;
}

function plainData(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  if (Array.isArray(value)) return value.map(plainData);
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (typeof item !== 'function') copy[key] = plainData(item);
  return copy;
}

/** Writes the SEG in a worker of its own (the page stays responsive while it is written). */
export async function writeSegDocument(request: WriteSegRequest): Promise<SegDocument> {
  const algorithmType = request.edited ? 'SEMIAUTOMATIC' : 'AUTOMATIC';
  const seg = await writeLiverSegInWorker(
    {
      sourceInstances: request.instances.map(sourceMetadata),
      mask: request.mask,
      algorithm: { name: request.model.name, version: request.model.sha256.slice(0, 16) },
      device: { manufacturer: 'rt-liver', modelName: 'rt-liver viewer', softwareVersions: EXTENSION_VERSION, serialNumber: 'none' },
      algorithmType,
      uids: request.uids,
    },
    startSegWriterWorker,
    // The mask was read from the labelmap for this SEG only: hand it over rather than copy it.
    { transferMask: true },
  );
  if (seg.status !== 'written') {
    throw new RtLiverError('SEG_EMPTY', 'The labelmap is empty: there is no liver to write as a DICOM SEG.', 'Segment again, or paint the liver with the brush first.');
  }
  return {
    bytes: seg.bytes,
    sopInstanceUID: seg.sopInstanceUID,
    seriesInstanceUID: seg.seriesInstanceUID,
    studyInstanceUID: seg.studyInstanceUID,
    frameCount: seg.frameCount,
    algorithmType,
  };
}

/** Offers the SEG to the browser as a file download. */
export function downloadSeg(seg: SegDocument, fileName = `liver-seg-${seg.sopInstanceUID}.dcm`): void {
  const url = URL.createObjectURL(new Blob([seg.bytes], { type: 'application/dicom' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Where a data source takes STOW-RS, or why it does not. */
export type StoreTarget = { ok: true; dicomWebUrl: string; name: string } | { ok: false; reason: string };

export function storeTargetOf(dataSourceConfig: Loose | undefined): StoreTarget {
  if (!dataSourceConfig) return { ok: false, reason: 'No data source is active.' };
  const name = String(dataSourceConfig.friendlyName ?? dataSourceConfig.name ?? 'this data source');
  if (dataSourceConfig.staticWado) {
    return {
      ok: false,
      reason: `Storing is not available: "${name}" is a read-only local store. Download the SEG instead, or open the study from a PACS (data source "pacs") to store it.`,
    };
  }
  const root = dataSourceConfig.wadoRoot ?? dataSourceConfig.qidoRoot;
  if (typeof root !== 'string' || !/^https?:\/\//.test(root)) {
    return { ok: false, reason: `Storing is not available: "${name}" has no DICOMweb address to store to.` };
  }
  return { ok: true, dicomWebUrl: root, name };
}

/** STOW-RS of the SEG; a retry sends the same bytes (same SOP Instance UID), which the PACS stores once. */
export async function storeSeg(seg: SegDocument, target: Extract<StoreTarget, { ok: true }>): Promise<void> {
  const { stowInstances } = await import('../core/seg/stow');
  await stowInstances([seg.bytes], { dicomWebUrl: target.dicomWebUrl, studyInstanceUID: seg.studyInstanceUID });
}
