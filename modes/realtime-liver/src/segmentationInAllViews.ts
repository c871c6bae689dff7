/**
 * A segmentation shown in one of the axial, coronal and sagittal views is shown in the other two.
 * OHIF hydrates a SEG (the "Yes" after opening a SEG series) into the one viewport it was opened
 * in; in this mode the three views are one volume seen three ways, so the labelmap belongs in all
 * of them. A viewport still showing OHIF's SEG preview (the SEG series itself) is left alone.
 */
// OHIF's services are untyped JavaScript.
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function showSegmentationsInAllViews(services: Loose, viewportIds: string[]): () => void {
  const { segmentationService, viewportGridService, displaySetService, cornerstoneViewportService } = services;
  const showsSegPreview = (viewportId: string) =>
    (viewportGridService.getDisplaySetsUIDsForViewport(viewportId) ?? []).some((uid: string) => displaySetService.getDisplaySetByUID(uid)?.Modality === 'SEG');
  const hasRepresentation = (viewportId: string, segmentationId: string) =>
    (segmentationService.getSegmentationRepresentations(viewportId, { segmentationId }) ?? []).length > 0;

  let running = false;
  let again = false;
  async function sync(): Promise<void> {
    if (running) { again = true; return; }
    running = true;
    try {
      do {
        again = false;
        const views = viewportIds.filter((id) => cornerstoneViewportService.getCornerstoneViewport(id) && !showsSegPreview(id));
        for (const { segmentationId } of segmentationService.getSegmentations()) {
          if (!views.some((id) => hasRepresentation(id, segmentationId))) continue;
          for (const id of views) if (!hasRepresentation(id, segmentationId)) await segmentationService.addSegmentationRepresentation(id, { segmentationId });
        }
      } while (again);
    } finally {
      running = false;
    }
  }

  const subscription = segmentationService.subscribe(segmentationService.EVENTS.SEGMENTATION_REPRESENTATION_MODIFIED, () => {
    sync().catch((error) => console.warn('rt-liver: could not show the segmentation in every view', error));
  });
  return () => subscription.unsubscribe();
}
