import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import {
  decodeImage,
  decodeLabelPng,
  encodeGreyPng,
  encodeJpeg,
  encodePalettePng,
  encodePngRgb,
  type ImageDecodeError,
} from "../../src/data/image.ts";
import { VOC_PALETTE } from "../../src/data/palette.ts";
import { failureOf, gradientRgb } from "./fixtures.ts";

const labelsOf = (n: number) =>
  Uint8Array.from({ length: n }, (_, i) => [0, 1, 7, 15, 20, 255][i % 6]);

Deno.test("image: palette PNG round trip keeps indices, not colours", () => {
  const labels = labelsOf(12 * 5);
  const png = Effect.runSync(encodePalettePng({ width: 12, height: 5, data: labels }));
  // IHDR colour type (byte 25) 3 = indexed colour: a real palette PNG.
  assertEquals(png[25], 3);
  const decoded = Effect.runSync(decodeLabelPng(png, "mask.png"));
  assertEquals([decoded.width, decoded.height], [12, 5]);
  assertEquals(Array.from(decoded.data), Array.from(labels));
});

Deno.test("image: VOC palette has the known colours of the first classes and of void", () => {
  assertEquals(VOC_PALETTE[0], [0, 0, 0]);
  assertEquals(VOC_PALETTE[1], [128, 0, 0]);
  assertEquals(VOC_PALETTE[2], [0, 128, 0]);
  assertEquals(VOC_PALETTE[15], [192, 128, 128]);
  assertEquals(VOC_PALETTE[255], [224, 224, 192]);
});

Deno.test("image: grey PNG masks decode to their grey values", () => {
  const labels = Uint8Array.from({ length: 30 }, (_, i) => (i * 37) % 151);
  const png = Effect.runSync(encodeGreyPng({ width: 6, height: 5, data: labels }));
  assertEquals(Array.from(Effect.runSync(decodeLabelPng(png, "g.png")).data), Array.from(labels));
});

Deno.test("image: JPEG and RGB PNG decode to RGB of the right size", async () => {
  const rgb = gradientRgb(16, 9, 3);
  const jpg = await Effect.runPromise(encodeJpeg({ width: 16, height: 9, data: rgb }, 95));
  const fromJpeg = Effect.runSync(decodeImage(jpg, "a.jpg"));
  assertEquals([fromJpeg.width, fromJpeg.height, fromJpeg.data.length], [16, 9, 16 * 9 * 3]);
  let error = 0;
  for (let i = 0; i < rgb.length; i++) error += Math.abs(rgb[i] - fromJpeg.data[i]);
  assert(error / rgb.length < 12, `mean JPEG error ${error / rgb.length}`);
  const fromPng = Effect.runSync(
    decodeImage(Effect.runSync(encodePngRgb({ width: 16, height: 9, data: rgb })), "a.png"),
  );
  assertEquals(Array.from(fromPng.data), Array.from(rgb));
});

Deno.test("image: JPEG encoding is byte-identical across calls", async () => {
  const image = { width: 20, height: 12, data: gradientRgb(20, 12, 1) };
  const a = await Effect.runPromise(encodeJpeg(image, 90));
  const b = await Effect.runPromise(encodeJpeg(image, 90));
  assertEquals(Array.from(a), Array.from(b));
});

Deno.test("image: truncated, corrupt and foreign files fail with ImageDecodeError naming the file", async () => {
  const jpg = await Effect.runPromise(
    encodeJpeg({ width: 16, height: 16, data: gradientRgb(16, 16) }, 90),
  );
  const png = Effect.runSync(encodePalettePng({ width: 16, height: 16, data: labelsOf(256) }));
  const corruptPng = png.slice();
  corruptPng[40] ^= 0xff; // inside the first chunk: the CRC no longer matches
  const cases: [Effect.Effect<unknown, ImageDecodeError>, string][] = [
    [decodeImage(jpg.subarray(0, 200), "short.jpg"), "short.jpg"],
    [decodeImage(new Uint8Array([1, 2, 3, 4]), "noise.bin"), "noise.bin"],
    [decodeLabelPng(png.subarray(0, png.length - 30), "short.png"), "short.png"],
    [decodeLabelPng(corruptPng, "crc.png"), "crc.png"],
    [decodeLabelPng(jpg, "jpeg-as-mask.png"), "jpeg-as-mask.png"],
    [
      decodeLabelPng(
        Effect.runSync(encodePngRgb({ width: 4, height: 4, data: gradientRgb(4, 4) })),
        "rgb-mask.png",
      ),
      "rgb-mask.png",
    ],
  ];
  for (const [effect, file] of cases) {
    const error = await failureOf(effect);
    assertEquals(error._tag, "ImageDecodeError");
    assertEquals(error.file, file);
    assert(error.reason.length > 0);
  }
});
