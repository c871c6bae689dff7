/**
 * The one model of a CT source image: a single-frame instance, or one frame of an Enhanced
 * (multi-frame) instance. The volume builder stacks these images (build-volume.ts); the SEG writer
 * and reader reference them (seg/source-images.ts), whether they come from the files (through the
 * DICOM parser, parse-instances.ts) or from a viewer's metadata.
 */
import type { Vec3 } from '../volume';
import type { DicomInstance } from './instance';
import type { ImageOrientation, ImagePlane } from './slice-geometry';

export interface SourceImage extends ImagePlane {
  sopClassUID: string;
  sopInstanceUID: string;
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  frameOfReferenceUID?: string;
  /** 1-based frame number within a multi-frame instance; absent for a single-frame instance. */
  frameNumber?: number;
  /** ImagePositionPatient, ImageOrientationPatient and PixelSpacing as written (a SEG copies them verbatim). */
  positionText: string[];
  orientationText: string[];
  pixelSpacingText: string[];
  sliceThicknessText?: string;
}

/** The plane attributes as written, and the numbers they say. */
export function planeFromTexts(positionText: string[], orientationText: string[], pixelSpacingText: string[]) {
  return {
    position: positionText.map(Number) as Vec3,
    positionText,
    orientation: orientationText.map(Number) as ImageOrientation,
    orientationText,
    pixelSpacing: pixelSpacingText.map(Number) as [number, number],
    pixelSpacingText,
  };
}

/** Makes the caller's error for an image whose plane is incomplete (the names of the missing attributes). */
export type MissingGeometry = (frameNumber: number | undefined, missing: string[]) => Error;

/**
 * The images of one parsed instance: one for a single-frame image, one per frame for a multi-frame
 * image. A frame's plane comes from its functional groups; its orientation, pixel spacing and slice
 * thickness fall back to the instance's own attributes (its position does not: each frame has its own).
 */
export function sourceImagesOf(instance: DicomInstance, missingGeometry: MissingGeometry): SourceImage[] {
  const frameCount = Math.max(1, instance.numberOfFrames);
  const multiFrame = instance.frames !== undefined || frameCount > 1;
  const images: SourceImage[] = [];
  for (let frameIndex = 0; frameIndex < frameCount; frameIndex++) {
    const frame = instance.frames?.[frameIndex];
    const frameNumber = multiFrame ? frameIndex + 1 : undefined;
    const position = frame?.imagePositionPatient ?? (frameCount === 1 ? instance.imagePositionPatient : undefined);
    const orientation = frame?.imageOrientationPatient ?? instance.imageOrientationPatient;
    const pixelSpacing = frame?.pixelSpacing ?? instance.pixelSpacing;
    if (!position || !orientation || !pixelSpacing) {
      const missing = [!position && 'ImagePositionPatient', !orientation && 'ImageOrientationPatient', !pixelSpacing && 'PixelSpacing'];
      throw missingGeometry(frameNumber, missing.filter((name): name is string => typeof name === 'string'));
    }
    const sliceThicknessText = frame?.sliceThickness ?? instance.sliceThickness;
    images.push({
      sopClassUID: instance.sopClassUID,
      sopInstanceUID: instance.sopInstanceUID,
      ...(instance.studyInstanceUID ? { studyInstanceUID: instance.studyInstanceUID } : {}),
      ...(instance.seriesInstanceUID ? { seriesInstanceUID: instance.seriesInstanceUID } : {}),
      ...(instance.frameOfReferenceUID ? { frameOfReferenceUID: instance.frameOfReferenceUID } : {}),
      ...(frameNumber !== undefined ? { frameNumber } : {}),
      rows: instance.rows,
      columns: instance.columns,
      ...planeFromTexts(position, orientation, pixelSpacing),
      ...(sliceThicknessText !== undefined ? { sliceThicknessText } : {}),
    });
  }
  return images;
}
