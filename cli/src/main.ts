/**
 * rt-liver: the command-line face of the segmentation core.
 *   rt-liver segment <dicom-folder|file.nii[.gz]> [--mask out.nii.gz] [--out seg.dcm] ...
 *   rt-liver eval <pred> <ref> [--ref-label N] [--json]
 *   rt-liver bench [--json]
 * Failures print the RtLiverError message (problem + what to do) and exit non-zero.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { errorText, isRtLiverError } from '../../extension/src/core/errors';
import { DEFAULT_INPUT_LIMITS, InputLimitError, type InputLimits } from '../../extension/src/core/limits';
import type { BackendChoice } from '../../extension/src/core/model/inference';
import { BACKENDS } from './backends';
import { fileSystemError, isSystemError } from './fs-errors';
import { defaultModelsDir } from './models';
import { CLI_VERSION } from './version';

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number.');
  return n;
}

/** The option that raises each input limit, and how its value is written. */
export const LIMIT_OPTIONS: Record<keyof InputLimits, { flag: string; value: (actual: number) => string }> = {
  maxFrames: { flag: '--max-frames', value: (actual) => String(actual) },
  maxVoxels: { flag: '--max-voxels', value: (actual) => String(actual) },
  maxDecompressedBytes: { flag: '--max-decompressed-mb', value: (actual) => String(Math.ceil(actual / 1024 ** 2)) },
};

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer.');
  return n;
}

function dimensions(value: string): [number, number, number] {
  const parts = value.split('x').map(Number);
  if (parts.length !== 3 || !parts.every((n) => Number.isInteger(n) && n > 1)) {
    throw new InvalidArgumentError('expected NXxNYxNZ, e.g. 512x512x200.');
  }
  return parts as [number, number, number];
}

/** --max-frames, --max-voxels, --max-decompressed-mb: the input limits, for every command that reads images. */
function limitOptions(): [Option, Option, Option] {
  return [
    new Option('--max-frames <n>', 'largest number of frames in one file or slices in one series').argParser(positiveInteger).default(DEFAULT_INPUT_LIMITS.maxFrames),
    new Option('--max-voxels <n>', 'largest image, in voxels (columns x rows x slices)').argParser(positiveInteger).default(DEFAULT_INPUT_LIMITS.maxVoxels),
    new Option('--max-decompressed-mb <mb>', 'largest NIfTI image data, in MB once decompressed').argParser(positiveNumber).default(DEFAULT_INPUT_LIMITS.maxDecompressedBytes / 1024 ** 2),
  ];
}

function backendOption(): Option {
  return new Option('--backend <backend>', 'inference runtime: auto (= cpu in Node), cpu (onnxruntime-node), wasm (onnxruntime-web), webgpu')
    .choices([...BACKENDS])
    .default('auto');
}

export function buildProgram(): Command {
  const program = new Command('rt-liver')
    .description('Liver segmentation of abdominal CT: DICOM or NIfTI in, a liver mask on the original grid out.')
    .version(CLI_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text) });

  program
    .command('segment')
    .description('Segment the liver of a CT (a DICOM folder, searched recursively, or a .nii/.nii.gz file).')
    .argument('<input>', 'DICOM folder or file, or NIfTI volume')
    .option('--mask <file>', 'write the mask as NIfTI (.nii or .nii.gz) on the input grid')
    .option('--out <file>', 'write the mask as a DICOM SEG referring to the input series (DICOM input only)')
    .option('--model <name>', "model from models/manifest.json (default: the manifest's default)")
    .option('--series <uid>', 'SeriesInstanceUID to read when the folder holds several CT series')
    .addOption(backendOption())
    .option('--threads <n>', 'inference threads (default: onnxruntime decides)', positiveInteger)
    .option('--models-dir <dir>', 'folder with manifest.json and the ONNX files', defaultModelsDir())
    .option('--store', 'send the SEG to the PACS of RT_LIVER_PACS_URL (user RT_LIVER_PACS_USER, password RT_LIVER_PACS_PASSWORD) by STOW-RS')
    .option('--force', 'replace --mask and --out files that exist already')
    .option('--single-pass', 'segment a long series (over 250 mm head to feet) in one pass, without the second pass on the slices around the liver')
    .option('--whole-field', 'give the model the whole in-plane field, without leaving out the air around the body of a wide field')
    .option('--unpadded', 'give the model a short series (under 140 mm head to feet) as it is, without repeating its end slices up to the shortest field it was trained on')
    .addOption(limitOptions()[0])
    .addOption(limitOptions()[1])
    .addOption(limitOptions()[2])
    .option('--json', 'print { volume_ml, backend, model, timings_ms, ... } as JSON on stdout')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (input: string, options: { mask?: string; out?: string; model?: string; series?: string; backend: BackendChoice; threads?: number; modelsDir: string; json?: boolean; quiet?: boolean; store?: boolean; force?: boolean; singlePass?: boolean; wholeField?: boolean; unpadded?: boolean; maxFrames: number; maxVoxels: number; maxDecompressedMb: number }) => {
      // Commands load on demand: each pulls in different heavy modules (dcmjs, onnxruntime, ...).
      const { segmentCommand } = await import('./commands/segment');
      await segmentCommand(input, options);
    });

  program
    .command('eval')
    .description('Compare a predicted liver mask with a reference: Dice, HD95 (mm), volumes. Inputs are NIfTI masks/labelmaps or DICOM SEG files, on any grids.')
    .argument('<pred>', 'prediction: NIfTI (.nii/.nii.gz) or DICOM SEG')
    .argument('<ref>', 'reference: NIfTI (.nii/.nii.gz) or DICOM SEG')
    .option('--ref-label <n>', 'label value of the liver in the reference (default: any non-zero voxel)', integer)
    .option('--pred-label <n>', 'label value of the liver in the prediction (default: any non-zero voxel)', integer)
    .option('--grid <dicom-folder>', 'the CT series whose grid two SEG inputs are read onto (needed only when both are SEG)')
    .addOption(limitOptions()[0])
    .addOption(limitOptions()[1])
    .addOption(limitOptions()[2])
    .option('--json', 'print the metrics as JSON on stdout')
    .action(async (pred: string, ref: string, options: { refLabel?: number; predLabel?: number; grid?: string; json?: boolean; maxFrames: number; maxVoxels: number; maxDecompressedMb: number }) => {
      const { evalCommand } = await import('./commands/eval');
      await evalCommand(pred, ref, options);
    });

  program
    .command('bench')
    .description('Per-stage median timings of the segmentation on a generated CT, for each model and backend, with ratios to onnxruntime-node (cpu).')
    .addOption(new Option('--size <NXxNYxNZ>', 'size of the generated CT').argParser(dimensions).default([512, 512, 200], '512x512x200'))
    .option('--runs <n>', 'timed runs per model and backend (after one warm-up run)', positiveInteger, 5)
    .option('--model <name...>', 'models to time (default: every model in the manifest)')
    .option('--backends <list>', 'comma-separated backends to time; cpu is always included as the baseline', 'cpu,wasm')
    .option('--threads <n>', 'inference threads', positiveInteger)
    .option('--input <path>', 'instead: time `rt-liver segment <path>` end to end, in fresh processes (wall time, stages, peak memory)')
    .option('--models-dir <dir>', 'folder with manifest.json and the ONNX files', defaultModelsDir())
    .option('--json', 'print the results as JSON on stdout')
    .action(async (options: { size: [number, number, number]; runs: number; model?: string[]; backends: string; threads?: number; input?: string; modelsDir: string; json?: boolean }) => {
      if (options.input) {
        const { benchEndToEnd } = await import('./commands/bench-cli');
        await benchEndToEnd(options.input, options);
        return;
      }
      const { benchCommand } = await import('./commands/bench');
      await benchCommand(options);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error && typeof error === 'object' && 'exitCode' in error && 'code' in error && String((error as { code: string }).code).startsWith('commander.')) {
      // --help and --version exit 0; usage errors were already printed by commander.
      return (error as { exitCode: number }).exitCode;
    }
    if (error instanceof InputLimitError) {
      const option = LIMIT_OPTIONS[error.limit];
      process.stderr.write(`\nrt-liver: ${error.message} If the input is genuine, raise the limit: ${option.flag} ${option.value(error.actual)}.\n`);
      return 2;
    }
    if (isRtLiverError(error)) {
      process.stderr.write(`\nrt-liver: ${errorText(error)}\n`);
      return 2;
    }
    if (isSystemError(error)) {
      // A file-system failure no step put into words: still a sentence, not a stack.
      const path = (error as NodeJS.ErrnoException).path ?? '';
      process.stderr.write(`\nrt-liver: ${errorText(fileSystemError(error, `File-system error${path ? ` on ${path}` : ''}`, path))}\n`);
      return 2;
    }
    process.stderr.write(`\nrt-liver: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
