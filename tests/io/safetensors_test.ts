import fc from "fast-check";
import { Effect, Result } from "effect";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  type SafetensorsDType,
  SafetensorsFormatError,
  type SafetensorsProblem,
  type SafetensorsTensor,
  writeSafetensors,
} from "../../src/io/safetensors.ts";

const ITEM: Record<SafetensorsDType, number> = { F64: 8, I64: 8, F32: 4, I32: 4, U8: 1 };

/** A tensor of a dtype whose bytes are arbitrary (NaN payloads included): bit-exactness is the point. */
const tensorOf = (dtype: SafetensorsDType) =>
  fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 }).chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc.uint8Array({ minLength: n * ITEM[dtype], maxLength: n * ITEM[dtype] }).map(
      (bytes): SafetensorsTensor => {
        const buffer = bytes.slice().buffer;
        const data = dtype === "F64"
          ? new Float64Array(buffer)
          : dtype === "I64"
          ? new BigInt64Array(buffer)
          : dtype === "F32"
          ? new Float32Array(buffer)
          : dtype === "I32"
          ? new Int32Array(buffer)
          : new Uint8Array(buffer);
        return { dtype, shape, data } as SafetensorsTensor;
      },
    );
  });

const anyTensor = fc.constantFrom<SafetensorsDType>("F64", "I64", "F32", "I32", "U8").chain(
  tensorOf,
);

const tensorSets = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s !== "__metadata__"),
  anyTensor,
  { maxKeys: 6 },
);

const bytesOf = (t: SafetensorsTensor) =>
  new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

const mustEncode = (
  tensors: Record<string, SafetensorsTensor>,
  metadata: Record<string, string> = {},
): Uint8Array => {
  const encoded = encodeSafetensors(tensors, metadata);
  if (Result.isFailure(encoded)) throw encoded.failure;
  return encoded.success;
};

const mustDecode = (bytes: Uint8Array) => {
  const decoded = decodeSafetensors(bytes, "t.safetensors");
  if (Result.isFailure(decoded)) throw decoded.failure;
  return decoded.success;
};

Deno.test("round trip is bit-exact for every dtype, shape and metadata", () => {
  fc.assert(
    fc.property(
      tensorSets,
      fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
      (tensors, metadata) => {
        const file = mustDecode(mustEncode(tensors, metadata));
        if (file.tensors.size !== Object.keys(tensors).length) throw new Error("tensor count");
        for (const [name, t] of Object.entries(tensors)) {
          const back = file.tensors.get(name);
          if (!back || back.dtype !== t.dtype || back.shape.join() !== t.shape.join()) {
            throw new Error(`tensor ${name} lost its dtype or shape`);
          }
          if (!sameBytes(bytesOf(back), bytesOf(t))) throw new Error(`tensor ${name} bytes differ`);
        }
        if (
          JSON.stringify(file.metadata) !== JSON.stringify(
            Object.fromEntries(Object.keys(metadata).sort().map((k) => [k, metadata[k]])),
          )
        ) throw new Error("metadata differs");
      },
    ),
    { seed: 42, numRuns: 200 },
  );
});

Deno.test("encoding is deterministic and aligned: insertion order does not matter", () => {
  fc.assert(
    fc.property(tensorSets, (tensors) => {
      const forward = mustEncode(tensors);
      const reversed = mustEncode(Object.fromEntries(Object.entries(tensors).reverse()));
      if (!sameBytes(forward, reversed)) throw new Error("bytes depend on insertion order");
      const headerLength = Number(new DataView(forward.buffer).getBigUint64(0, true));
      if (headerLength % 8 !== 0) throw new Error(`header length ${headerLength} not aligned`);
      const header = JSON.parse(new TextDecoder().decode(forward.subarray(8, 8 + headerLength)));
      const names = Object.keys(header).filter((k) => k !== "__metadata__");
      const text = new TextDecoder().decode(forward.subarray(8, 8 + headerLength));
      const positions = [...names].sort().map((n) => text.indexOf(`${JSON.stringify(n)}:{"dtype"`));
      if (positions.some((p, i) => p < 0 || (i > 0 && p <= positions[i - 1]))) {
        throw new Error("names not sorted");
      }
      for (const name of names) {
        const { dtype, data_offsets: [begin] } = header[name];
        if (begin % ITEM[dtype as SafetensorsDType] !== 0) throw new Error(`${name} misaligned`);
      }
    }),
    { seed: 42, numRuns: 100 },
  );
});

/** Builds a file by hand from a header object and data bytes. */
const rawFile = (header: unknown, data: Uint8Array, headerText?: string): Uint8Array => {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
};

const expectProblem = (bytes: Uint8Array, problem: SafetensorsProblem) => {
  const decoded = decodeSafetensors(bytes, "weights/broken.safetensors");
  if (Result.isSuccess(decoded)) throw new Error(`expected ${problem}, decoded fine`);
  const error = decoded.failure;
  if (!(error instanceof SafetensorsFormatError) || error._tag !== "SafetensorsFormatError") {
    throw new Error("not a SafetensorsFormatError");
  }
  if (error.problem !== problem) throw new Error(`expected ${problem}, got ${error.message}`);
  if (
    error.file !== "weights/broken.safetensors" || !error.message.includes("broken.safetensors")
  ) {
    throw new Error(`error does not name the file: ${error.message}`);
  }
};

const eightBytes = new Uint8Array(8);
const f32 = (shape: number[], begin: number, end: number) => ({
  dtype: "F32",
  shape,
  data_offsets: [begin, end],
});

Deno.test("each corruption gives its tagged error naming the file", () => {
  expectProblem(new Uint8Array(5), "truncated");
  const tooLong = rawFile({ a: f32([2], 0, 8) }, eightBytes);
  new DataView(tooLong.buffer).setBigUint64(0, 10_000n, true);
  expectProblem(tooLong, "header-length");
  const huge = rawFile({}, new Uint8Array(0));
  new DataView(huge.buffer).setBigUint64(0, 0xffff_ffff_ffff_fff0n, true);
  expectProblem(huge, "header-length");
  expectProblem(rawFile(null, eightBytes, '{"a": {"dtype": "F32",'), "invalid-json");
  expectProblem(rawFile(null, eightBytes, "[1, 2]"), "invalid-header");
  expectProblem(
    rawFile({ a: { dtype: "F32", shape: [2], data_offsets: [0] } }, eightBytes),
    "invalid-header",
  );
  expectProblem(
    rawFile({ a: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, eightBytes),
    "invalid-header",
  );
  expectProblem(
    rawFile({ __metadata__: { k: 3 }, a: f32([2], 0, 8) }, eightBytes),
    "invalid-header",
  );
  expectProblem(rawFile({ a: f32([4], 0, 16) }, eightBytes), "offsets");
  expectProblem(rawFile({ a: f32([2], 8, 0) }, eightBytes), "offsets");
  expectProblem(rawFile({ a: f32([2], 0, 8), b: f32([1], 4, 8) }, eightBytes), "offsets");
  expectProblem(rawFile({ a: f32([1], 4, 8) }, eightBytes), "offsets");
  expectProblem(rawFile({ a: f32([1], 0, 4) }, eightBytes), "offsets");
  expectProblem(
    rawFile({ a: { dtype: "F31", shape: [2], data_offsets: [0, 8] } }, eightBytes),
    "dtype",
  );
  expectProblem(rawFile({ a: f32([3], 0, 8) }, eightBytes), "shape");
  expectProblem(
    rawFile({ a: { dtype: "I64", shape: [2], data_offsets: [0, 8] } }, eightBytes),
    "shape",
  );
});

Deno.test("no byte mutation or truncation of a valid file throws", () => {
  const valid = mustEncode({
    w: { dtype: "F32", shape: [2, 3], data: new Float32Array(6).fill(1.5) },
    n: { dtype: "I64", shape: [2], data: new BigInt64Array([1n, -1n]) },
  }, { format: "pt" });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
        maxLength: 4,
      }),
      fc.nat(valid.length),
      (edits, keep) => {
        const bytes = valid.slice(0, keep);
        for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
        const decoded = decodeSafetensors(bytes, "x.safetensors");
        if (Result.isFailure(decoded) && decoded.failure.file !== "x.safetensors") {
          throw new Error("error lost the file name");
        }
      },
    ),
    { seed: 42, numRuns: 500 },
  );
});

Deno.test("F16 and BF16 read as F32", () => {
  // 1.0, -2.0, 0.5 and 65504 (largest half) in F16; 1.0, -2.0 in BF16.
  const half = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff]);
  const brain = new Uint16Array([0x3f80, 0xc000]);
  const data = new Uint8Array(12);
  data.set(new Uint8Array(half.buffer), 0);
  data.set(new Uint8Array(brain.buffer), 8);
  const file = mustDecode(rawFile({
    h: { dtype: "F16", shape: [4], data_offsets: [0, 8] },
    b: { dtype: "BF16", shape: [2], data_offsets: [8, 12] },
  }, data));
  const h = file.tensors.get("h")!;
  const b = file.tensors.get("b")!;
  if (h.dtype !== "F32" || [...h.data].join() !== "1,-2,0.5,65504") {
    throw new Error(`F16: ${[...h.data]}`);
  }
  if (b.dtype !== "F32" || [...b.data].join() !== "1,-2") throw new Error(`BF16: ${[...b.data]}`);
  if (file.storedDtypes.get("h") !== "F16") throw new Error("stored dtype lost");
});

Deno.test("encoding rejects data that does not fill its shape", () => {
  const bad = encodeSafetensors({ a: { dtype: "F32", shape: [3], data: new Float32Array(2) } });
  if (Result.isSuccess(bad) || bad.failure._tag !== "SafetensorsEncodeError") {
    throw new Error("expected SafetensorsEncodeError");
  }
});

Deno.test("write is atomic and read names the file in its errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/model.safetensors`;
    const tensors = { x: { dtype: "I32", shape: [3], data: new Int32Array([1, -2, 3]) } } as const;
    await Effect.runPromise(writeSafetensors(path, tensors, { step: "1" }));
    const entries = [...Deno.readDirSync(dir)].map((e) => e.name);
    if (entries.join() !== "model.safetensors") throw new Error(`left behind: ${entries}`);
    const file = await Effect.runPromise(readSafetensors(path));
    if ([...file.tensors.get("x")!.data].join() !== "1,-2,3" || file.metadata.step !== "1") {
      throw new Error("read back differs");
    }
    await Deno.writeFile(path, new Uint8Array(3));
    const corrupt = await Effect.runPromise(Effect.result(readSafetensors(path)));
    if (Result.isSuccess(corrupt) || corrupt.failure._tag !== "SafetensorsFormatError") {
      throw new Error("corrupt file read without error");
    }
    if (!corrupt.failure.message.includes(path)) throw new Error(corrupt.failure.message);
    const missing = await Effect.runPromise(
      Effect.result(readSafetensors(`${dir}/none.safetensors`)),
    );
    if (Result.isSuccess(missing) || missing.failure._tag !== "SafetensorsIoError") {
      throw new Error("missing file read without an I/O error");
    }
    const unwritable = await Effect.runPromise(
      Effect.result(writeSafetensors(`${dir}/no/such/dir/m.safetensors`, tensors)),
    );
    if (Result.isSuccess(unwritable) || unwritable.failure._tag !== "SafetensorsIoError") {
      throw new Error("write into a missing directory succeeded");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
