/**
 * Exporting a trained DeepLabV3's backbone as a torchvision ResNet state dict
 * (`conv1.weight`, `bn1.*`, `layer1.0.conv1.weight`, ... without `fc.*`): the
 * file `--pretrained` loads into the backbone of step 0, as an ImageNet ResNet
 * would be. The head (ASPP and classifier) is not exported: a pretrained
 * backbone is what the field starts from.
 *
 * @module
 */
import { Effect } from "effect";
import { readSafetensors, type SafetensorsTensor, writeSafetensors } from "../io/safetensors.ts";
import { CheckpointError } from "./checkpoint.ts";

const PREFIX = "backbone.";

/** The backbone tensors of a DeepLabV3 state dict under torchvision ResNet names, sorted. */
export const backboneTensors = (
  tensors: ReadonlyMap<string, SafetensorsTensor>,
): Map<string, SafetensorsTensor> =>
  new Map(
    [...tensors.entries()]
      .filter(([name]) => name.startsWith(PREFIX))
      .map(([name, t]): [string, SafetensorsTensor] => [name.slice(PREFIX.length), t])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );

/**
 * Reads a DeepLabV3 checkpoint and writes its backbone as a torchvision ResNet
 * file with `metadata` (strings, e.g. how it was made), atomically; returns
 * the number of tensors written. Fails naming the file when it cannot be
 * read or written or holds no backbone.
 */
export const exportBackbone = (
  checkpointPath: string,
  outPath: string,
  metadata: Readonly<Record<string, string>> = {},
): Effect.Effect<number, CheckpointError> =>
  Effect.gen(function* () {
    const file = yield* readSafetensors(checkpointPath).pipe(
      Effect.mapError((e) =>
        new CheckpointError({
          file: checkpointPath,
          problem: e._tag === "SafetensorsIoError" ? "io" : "format",
          detail: e.message,
        })
      ),
    );
    const backbone = backboneTensors(file.tensors);
    if (!backbone.has("conv1.weight")) {
      return yield* new CheckpointError({
        file: checkpointPath,
        problem: "missing",
        tensor: "backbone.conv1.weight",
        detail: "not a DeepLabV3 checkpoint: it has no backbone to export",
      });
    }
    yield* writeSafetensors(outPath, backbone, metadata, { checksum: true }).pipe(
      Effect.mapError((e) =>
        new CheckpointError({
          file: outPath,
          problem: e._tag === "SafetensorsIoError" ? "io" : "encode",
          detail: e.message,
        })
      ),
    );
    return backbone.size;
  });
