/**
 * Attributes a derived SEG copies from its source images so that it joins the same patient and study
 * (PS3.3 A.51: Patient, Clinical Trial Subject, General Study, Patient Study, Clinical Trial Study
 * modules, Frame of Reference). Read with dcmjs from one source instance, only up to group 0028: all of
 * these come before it, and stopping there skips the image attributes (some have the ambiguous VR
 * "xs", on which dcmjs logs an error for implicit-VR files).
 */
import dcmjs, { type NaturalDataset } from 'dcmjs';

const COPIED_KEYWORDS = [
  'SpecificCharacterSet',
  // Patient
  'PatientName',
  'PatientID',
  'IssuerOfPatientID',
  'IssuerOfPatientIDQualifiersSequence',
  'PatientBirthDate',
  'PatientBirthTime',
  'PatientSex',
  'OtherPatientIDsSequence',
  'PatientComments',
  'PatientSpeciesDescription',
  'PatientBreedDescription',
  'ResponsiblePerson',
  'ResponsibleOrganization',
  'PatientIdentityRemoved',
  'DeidentificationMethod',
  'DeidentificationMethodCodeSequence',
  'QualityControlSubject',
  // Clinical Trial Subject
  'ClinicalTrialSponsorName',
  'ClinicalTrialProtocolID',
  'ClinicalTrialProtocolName',
  'ClinicalTrialSiteID',
  'ClinicalTrialSiteName',
  'ClinicalTrialSubjectID',
  'ClinicalTrialSubjectReadingID',
  // General Study
  'StudyInstanceUID',
  'StudyDate',
  'StudyTime',
  'ReferringPhysicianName',
  'StudyID',
  'AccessionNumber',
  'IssuerOfAccessionNumberSequence',
  'StudyDescription',
  'PhysiciansOfRecord',
  'NameOfPhysiciansReadingStudy',
  'ProcedureCodeSequence',
  // Patient Study
  'AdmittingDiagnosesDescription',
  'PatientAge',
  'PatientSize',
  'PatientWeight',
  'Occupation',
  'AdditionalPatientHistory',
  'PatientSexNeutered',
  // Clinical Trial Study
  'ClinicalTrialTimePointID',
  'ClinicalTrialTimePointDescription',
  'ConsentForClinicalTrialUseSequence',
  // Frame of Reference
  'FrameOfReferenceUID',
  'PositionReferenceIndicator',
] as const;

/** Type 2 attributes of those modules: present in the SEG even when the source lacks them (then empty). */
const REQUIRED_EVEN_IF_EMPTY = [
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientSex',
  'StudyDate',
  'StudyTime',
  'ReferringPhysicianName',
  'StudyID',
  'AccessionNumber',
  'PositionReferenceIndicator',
] as const;

/**
 * The patient, study and frame-of-reference attributes of `source` (a Part-10 file, or its metadata
 * as a naturalized dataset, e.g. an OHIF instance), ready to merge into the SEG.
 */
export function readCopiedModules(source: ArrayBuffer | NaturalDataset): NaturalDataset {
  let dataset: NaturalDataset;
  if (source instanceof ArrayBuffer) {
    const header = dcmjs.data.DicomMessage.readFile(source, { untilTag: '00280000', stopOnGreaterTag: true });
    dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(header.dict);
  } else {
    dataset = source;
  }
  const copied: NaturalDataset = {};
  for (const keyword of COPIED_KEYWORDS) {
    if (dataset[keyword] !== undefined) copied[keyword] = dataset[keyword];
  }
  for (const keyword of REQUIRED_EVEN_IF_EMPTY) {
    if (copied[keyword] === undefined) copied[keyword] = '';
  }
  return copied;
}
