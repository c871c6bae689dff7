/** Uploads the DICOM files of a folder (recursively) to Orthanc; non-DICOM files are skipped. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type OrthancHandle, uploadDicom } from './launcher';

export function listFilesRecursively(folder: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(folder).sort()) {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) files.push(...listFilesRecursively(path));
    else files.push(path);
  }
  return files;
}

/** True when the bytes carry the DICOM Part 10 preamble ("DICM" at byte 128). */
export function isDicomPart10(bytes: Uint8Array): boolean {
  return bytes.byteLength > 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

export async function uploadFolder(handle: Pick<OrthancHandle, 'url' | 'authorization'>, folder: string): Promise<{ uploaded: number; skipped: string[]; studies: Set<string> }> {
  let uploaded = 0;
  const skipped: string[] = [];
  const studies = new Set<string>();
  for (const path of listFilesRecursively(folder)) {
    const bytes = readFileSync(path);
    if (!isDicomPart10(bytes)) {
      skipped.push(path);
      continue;
    }
    const result = await uploadDicom(handle, bytes);
    studies.add(result.ParentStudy);
    uploaded++;
  }
  return { uploaded, skipped, studies };
}
