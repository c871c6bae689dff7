/** The stages of a run, in order, as the panel lists them. */
export const RUN_STAGES = ['copy', 'model', 'preprocess', 'inference', 'postprocess', 'display'] as const;
