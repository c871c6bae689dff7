/**
 * The coded concepts and UIDs a liver SEG carries, declared once.
 * Codes are SNOMED CT (SCT) and DICOM (DCM) as listed in PS3.16; the meanings are the standard's.
 */
export interface CodedConcept {
  value: string;
  scheme: string;
  meaning: string;
}

export const SEGMENTATION_STORAGE_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.66.4';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** Identifies files written by rt-liver (PS3.7 Implementation Class UID), fixed for the project. */
export const IMPLEMENTATION_CLASS_UID = '2.25.161853741376413427613405066457384290871';
export const IMPLEMENTATION_VERSION_NAME = 'RT_LIVER_0_1';

export const ANATOMICAL_STRUCTURE: CodedConcept = { value: '123037004', scheme: 'SCT', meaning: 'Anatomical Structure' };
export const LIVER: CodedConcept = { value: '10200004', scheme: 'SCT', meaning: 'Liver' };
/** CID 7162 Surface Processing Algorithm Families. */
export const ARTIFICIAL_INTELLIGENCE: CodedConcept = { value: '123110', scheme: 'DCM', meaning: 'Artificial Intelligence' };
/** CID 7202 Source Image Purposes of Reference. */
export const SOURCE_IMAGE_FOR_PROCESSING: CodedConcept = {
  value: '121322',
  scheme: 'DCM',
  meaning: 'Source image for image processing operation',
};
/** CID 7203 Image Derivation. */
export const SEGMENTATION_DERIVATION: CodedConcept = { value: '113076', scheme: 'DCM', meaning: 'Segmentation' };

/**
 * Slicer's "liver" colour, sRGB (221, 130, 101), as DICOM CIELab scaled to 0..65535 (PS3.3 C.10.7.1.1):
 * the same value dcmqi writes, so viewers show our liver in the colour users know.
 */
export const LIVER_CIELAB: [number, number, number] = [41661, 41167, 40792];

/** The naturalized (dcmjs) form of a code sequence item. */
export function codeItem(code: CodedConcept): Record<string, string> {
  return { CodeValue: code.value, CodingSchemeDesignator: code.scheme, CodeMeaning: code.meaning };
}
