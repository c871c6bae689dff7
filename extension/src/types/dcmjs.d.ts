/**
 * Minimal typings for dcmjs 0.52 (the package ships none). Only what the project calls is typed;
 * extend here rather than declaring the module again elsewhere (a second `declare module 'dcmjs'`
 * would conflict).
 */
declare module 'dcmjs' {
  /** A "naturalized" dataset: DICOM keywords as keys (PatientName, PixelData, ...). */
  export type NaturalDataset = Record<string, unknown>;
  /** A denaturalized dataset: tags ("00100010") to `{ vr, Value }`. */
  export type DenaturalizedDataset = Record<string, { vr: string; Value?: unknown[]; InlineBinary?: string }>;

  export namespace data {
    class DicomDict {
      constructor(meta: DenaturalizedDataset);
      meta: DenaturalizedDataset;
      dict: DenaturalizedDataset;
      write(options?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer;
    }
    const DicomMessage: {
      readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean; untilTag?: string; includeUntilTagValue?: boolean; stopOnGreaterTag?: boolean }): DicomDict;
    };
    const DicomMetaDictionary: {
      naturalizeDataset(dataset: DenaturalizedDataset): NaturalDataset;
      denaturalizeDataset(dataset: NaturalDataset): DenaturalizedDataset;
      uid(): string;
      date(): string;
      time(): string;
      dictionary: Record<string, { tag: string; vr: string; name: string; vm: string }>;
      nameMap: Record<string, { tag: string; vr: string; name: string; vm: string }>;
    };
    function datasetToBuffer(dataset: NaturalDataset): { buffer: ArrayBuffer } & Uint8Array;
  }

  export const log: { setLevel(level: string | number): void; getLevel(): number };
  // Parts not typed yet (derivations, normalizers, adapters, sr, ...).
  export const derivations: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  export const normalizers: any; // eslint-disable-line @typescript-eslint/no-explicit-any

  const dcmjs: {
    data: typeof data;
    log: typeof log;
    derivations: typeof derivations;
    normalizers: typeof normalizers;
  };
  export default dcmjs;
}
