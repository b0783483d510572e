/**
 * Tagged errors of the data layer. Each one names the offending file and,
 * where the sample came from a list file, that list and the 1-based line, so
 * a bad sample can be found and fixed by hand.
 *
 * @module
 */
import { Data } from "effect";
import { ImageDecodeError } from "./image.ts";

export { ImageDecodeError };

/** Where a sample was listed: the list file and 1-based line, when there is a list. */
export interface ListPosition {
  readonly listFile?: string;
  readonly line?: number;
}

const where = (p: ListPosition): string =>
  p.listFile === undefined
    ? ""
    : ` (listed in ${p.listFile}${p.line === undefined ? "" : `:${p.line}`})`;

/** A list file (e.g. `ImageSets/Segmentation/train.txt`) is missing or unreadable. */
export class ListFileMissingError extends Data.TaggedError("ListFileMissingError")<{
  readonly file: string;
  readonly reason: string;
}> {
  override get message(): string {
    return `list file ${this.file}: ${this.reason}`;
  }
}

/** A line of a list file could not be parsed. */
export class ListLineError extends Data.TaggedError("ListLineError")<{
  readonly listFile: string;
  readonly line: number;
  readonly reason: string;
}> {
  override get message(): string {
    return `${this.listFile}:${this.line}: ${this.reason}`;
  }
}

/** A file named by a list (or expected by the layout) does not exist. */
export class MissingSampleFileError extends Data.TaggedError("MissingSampleFileError")<
  ListPosition & { readonly file: string; readonly reason: string }
> {
  override get message(): string {
    return `missing file ${this.file}${where(this)}: ${this.reason}`;
  }
}

/** An image or mask is truncated or corrupt and could not be decoded. */
export class CorruptFileError extends Data.TaggedError("CorruptFileError")<
  ListPosition & { readonly file: string; readonly reason: string }
> {
  override get message(): string {
    return `corrupt file ${this.file}${where(this)}: ${this.reason}`;
  }
}

/** A mask's size differs from its image's size. */
export class SizeMismatchError extends Data.TaggedError("SizeMismatchError")<
  ListPosition & {
    readonly file: string;
    readonly imageFile: string;
    readonly imageSize: readonly [number, number];
    readonly maskSize: readonly [number, number];
  }
> {
  override get message(): string {
    const [iw, ih] = this.imageSize;
    const [mw, mh] = this.maskSize;
    return `mask ${this.file} is ${mw}x${mh} but image ${this.imageFile} is ${iw}x${ih}${
      where(this)
    }`;
  }
}

/** A mask holds values that are not labels of its dataset (and not 255). */
export class LabelOutOfRangeError extends Data.TaggedError("LabelOutOfRangeError")<
  ListPosition & {
    readonly file: string;
    readonly values: readonly number[];
    readonly allowed: string;
  }
> {
  override get message(): string {
    return `mask ${this.file} holds labels ${this.values.join(", ")} outside ${this.allowed}${
      where(this)
    }`;
  }
}

/** A dataset folder does not have the expected layout. */
export class DatasetLayoutError extends Data.TaggedError("DatasetLayoutError")<{
  readonly root: string;
  readonly reason: string;
}> {
  override get message(): string {
    return `dataset at ${this.root}: ${this.reason}`;
  }
}

/** A task name is not in the registry; `valid` lists the names that are. */
export class UnknownTaskError extends Data.TaggedError("UnknownTaskError")<{
  readonly name: string;
  readonly valid: readonly string[];
}> {
  override get message(): string {
    return `unknown task "${this.name}"; valid tasks: ${this.valid.join(", ")}`;
  }
}

/** A file could not be written (synthetic dataset, class-set cache). */
export class DataWriteError extends Data.TaggedError("DataWriteError")<{
  readonly file: string;
  readonly reason: string;
}> {
  override get message(): string {
    return `cannot write ${this.file}: ${this.reason}`;
  }
}

/** Errors that make one sample unusable (the ones `skipBad` may skip). */
export type SampleError =
  | MissingSampleFileError
  | CorruptFileError
  | SizeMismatchError
  | LabelOutOfRangeError;

/** A sample left out under `skipBad`, with the error that disqualified it. */
export interface SkippedSample {
  readonly name: string;
  readonly error: SampleError;
}
