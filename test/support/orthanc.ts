/**
 * A real Orthanc for tests (STOW-RS, QIDO-RS, WADO-RS, the viewer's PACS data source):
 *
 *   const orthanc = await startOrthanc();          // free port, temp storage, Basic auth
 *   await uploadDicom(orthanc, bytes);             // REST upload
 *   fetch(`${orthanc.dicomWebUrl}/studies`, { headers: { authorization: orthanc.authorization } });
 *   await orthanc.stop();                          // kills it and removes its storage
 *
 *   await uploadFolder(orthanc, folder);           // every DICOM file below a folder
 *
 * The implementation lives in scripts/orthanc/, shared with `npx tsx scripts/orthanc.ts`.
 */
export {
  OrthancError,
  type OrthancHandle,
  type OrthancOptions,
  type UploadResult,
  findOrthancBinary,
  startOrthanc,
  uploadDicom,
} from '../../scripts/orthanc/launcher';
export { uploadFolder, isDicomPart10 } from '../../scripts/orthanc/load-folder';
