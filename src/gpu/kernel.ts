/**
 * The kernel DSL: a kernel is a plain value that declares its WGSL body, its
 * typed storage bindings, its typed uniform parameters, compile-time constants,
 * its workgroup size and its dispatch size as a function of the parameters.
 *
 * The declarations generate the WGSL header (bindings, the `Params` uniform
 * struct, constants, workgroup size, and `linear_index(gid, groups)`: an
 * invocation's index on a folded linear grid), so the TypeScript side and the
 * shader can never disagree on binding order or parameter layout.
 *
 * @module
 */

/** Element types a tensor can hold. */
export type DType = "f32" | "i32" | "u32";

/** Element type of a storage binding: a scalar, or four packed f32 (vec4 loads). */
export type BindingElement = DType | "vec4f";

/** How a kernel accesses a storage binding. */
export type Access = "read" | "read_write";

/** Declaration of one storage binding. */
export interface BindingSpec {
  readonly access: Access;
  readonly type: BindingElement;
  /** Declares the array's elements `atomic<type>` (read_write i32/u32 only: counters, histograms). */
  readonly atomic?: boolean;
  /**
   * A read-only f32 or vec4f binding the body reads through a generated
   * `load_<name>(i: u32)` (element i of the array): from the
   * storage buffer itself (`"buffer"`), or from a copy of it in an rgba32float
   * texture of {@link TEXTURE_ROW_TEXELS} texels a row (`"texture"`; the
   * recorder copies the bound buffer into it before the dispatch), or from
   * the buffer bound as a uniform block (`"uniform"`). llvmpipe
   * loads storage buffers one SIMD lane at a time, textures and uniform
   * blocks with vector gathers, which on an AVX2 machine is about 5x faster
   * (bench/texture_loads.ts, bench/uniform_reads.ts).
   */
  readonly via?: BindingVia;
  /**
   * With `via: "uniform"`: the kernel constant holding the binding's length
   * in vec4s (a uniform array's length is part of the shader).
   */
  readonly quads?: string;
  /**
   * The texture copy of a binding this kernel also writes (its old values,
   * copied before the dispatch): it may share bytes with that binding, which
   * any other aliasing of a written binding may not, in either read path.
   */
  readonly snapshot?: boolean;
}

/** How a `via` binding is read: its storage buffer, or a texture copy of it. */
export type ReadVia = "buffer" | "texture";

/**
 * How a binding is read: a {@link ReadVia}, or the buffer bound as a uniform
 * block (`"uniform"`: an f32 or vec4f binding of at most
 * {@link UNIFORM_BINDING_BYTES}, its length in vec4s the kernel constant named
 * by the spec's `quads`).
 */
export type BindingVia = ReadVia | "uniform";

/** The largest uniform binding every WebGPU device allows (the default maxUniformBufferBindingSize). */
export const UNIFORM_BINDING_BYTES = 65536;

/** The suffix a kernel's name carries in its texture form ("" for buffers), so traces tell them apart. */
export const viaSuffix = (via: ReadVia): string => via === "texture" ? "+textures" : "";

/** Texels per row of a binding read through a texture (a power of two; 32 KiB a row). */
export const TEXTURE_ROW_TEXELS = 2048;

/** Rows a texture binding may use: WebGPU's default maxTextureDimension2D, which every device has. */
export const TEXTURE_MAX_ROWS = 8192;

/**
 * Whether a buffer view can be bound through a texture: a multiple of 4 f32
 * values, at most {@link TEXTURE_ROW_TEXELS} x {@link TEXTURE_MAX_ROWS} texels,
 * starting at a 16-byte offset (a texel).
 */
export const fitsTexture = (
  view: { readonly elements: number; readonly offset?: number },
): boolean =>
  view.elements % 4 === 0 && view.elements / 4 <= TEXTURE_ROW_TEXELS * TEXTURE_MAX_ROWS &&
  (view.offset ?? 0) % 16 === 0;

/** Scalar types of uniform parameters and compile-time constants. */
export type ScalarType = "f32" | "i32" | "u32";

/** The TypeScript values of a parameter record. */
export type Values<P extends Record<string, ScalarType>> = { readonly [K in keyof P]: number };

/** A workgroup count per dimension. */
export type Grid = readonly [number, number, number];

/** A kernel declaration (see {@link defineKernel}). */
export interface Kernel<
  B extends Record<string, BindingSpec> = Record<string, BindingSpec>,
  P extends Record<string, ScalarType> = Record<string, ScalarType>,
  C extends Record<string, ScalarType> = Record<string, ScalarType>,
> {
  /** Name used in errors and the pipeline cache; usually the file path. */
  readonly name: string;
  /** WGSL body: functions and the `main` entry point, without the generated header. */
  readonly source: string;
  readonly bindings: B;
  readonly params: P;
  /** Compile-time constants: each distinct value set compiles its own pipeline. */
  readonly constants: C;
  /** Workgroup size; may depend on the constants (a tile size, say). */
  readonly workgroupSize: (constants: Values<C>) => Grid;
  /** Number of workgroups to dispatch for the given parameters and constants. */
  readonly dispatch: (params: Values<P>, constants: Values<C>) => Grid;
  /** Minimum element count of each binding, checked before every dispatch. */
  readonly minElements: (
    params: Values<P>,
    constants: Values<C>,
  ) => { readonly [K in keyof B]?: number };
}

/** Options of {@link defineKernel}; `constants`, `params` and the size functions are optional. */
export interface KernelOptions<
  B extends Record<string, BindingSpec>,
  P extends Record<string, ScalarType>,
  C extends Record<string, ScalarType>,
> {
  readonly name: string;
  readonly source: string;
  readonly bindings: B;
  readonly params?: P;
  readonly constants?: C;
  readonly workgroupSize: Grid | ((constants: Values<C>) => Grid);
  readonly dispatch: (params: Values<P>, constants: Values<C>) => Grid;
  readonly minElements?: (
    params: Values<P>,
    constants: Values<C>,
  ) => { readonly [K in keyof B]?: number };
}

/**
 * Declares a kernel. The value is inert: compilation happens on first
 * dispatch. Throws a TypeError for a snapshot binding that is not a
 * read-only texture copy, and for a uniform binding that is not a read-only
 * f32 or vec4f whose `quads` names one of the kernel's constants.
 */
export const defineKernel = <
  const B extends Record<string, BindingSpec>,
  const P extends Record<string, ScalarType> = Record<never, ScalarType>,
  const C extends Record<string, ScalarType> = Record<never, ScalarType>,
>(options: KernelOptions<B, P, C>): Kernel<B, P, C> => {
  const constants: Record<string, ScalarType> = options.constants ?? {};
  for (const [name, spec] of Object.entries(options.bindings)) {
    if (spec.snapshot && (spec.via !== "texture" || spec.access !== "read")) {
      throw new TypeError(
        `${options.name}: snapshot binding ${name} must be a read-only texture copy`,
      );
    }
    if (
      spec.via === "uniform" &&
      (spec.access !== "read" || (spec.type !== "vec4f" && spec.type !== "f32") ||
        !((spec.quads ?? "") in constants))
    ) {
      throw new TypeError(
        `${options.name}: uniform binding ${name} must be a read-only f32 or vec4f whose ` +
          `quads name a constant`,
      );
    }
  }
  const size = options.workgroupSize;
  return {
    name: options.name,
    source: options.source,
    bindings: options.bindings,
    params: (options.params ?? {}) as P,
    constants: (options.constants ?? {}) as C,
    workgroupSize: typeof size === "function" ? size : () => size,
    dispatch: options.dispatch,
    minElements: options.minElements ?? (() => ({})),
  };
};

const wgslType = (t: BindingElement): string => t === "vec4f" ? "vec4<f32>" : t;

const literal = (type: ScalarType, value: number): string => {
  if (type === "f32") {
    const text = Number.isInteger(value) ? value.toFixed(1) : String(value);
    return `f32(${text})`;
  }
  return type === "u32" ? `${value >>> 0}u` : `${value | 0}i`;
};

/** The WGSL header generated from a kernel's declarations; also its line count. */
export const kernelHeader = (
  kernel: Kernel,
  constants: Record<string, number>,
): { readonly text: string; readonly lines: number } => {
  const out: string[] = [];
  const names = Object.keys(kernel.bindings);
  const shift = Math.log2(TEXTURE_ROW_TEXELS);
  names.forEach((name, index) => {
    const spec = kernel.bindings[name];
    if (spec.via === "texture") {
      out.push(`@group(0) @binding(${index}) var ${name}: texture_2d<f32>;`);
      // f32: element i is component i % 4 of texel i / 4.
      out.push(
        spec.type === "vec4f"
          ? `fn load_${name}(i: u32) -> vec4<f32> { return textureLoad(${name}, ` +
            `vec2<u32>(i & ${TEXTURE_ROW_TEXELS - 1}u, i >> ${shift}u), 0); }`
          : `fn load_${name}(i: u32) -> f32 { let t = i >> 2u; return textureLoad(${name}, ` +
            `vec2<u32>(t & ${TEXTURE_ROW_TEXELS - 1}u, t >> ${shift}u), 0)[i & 3u]; }`,
      );
      return;
    }
    if (spec.via === "uniform") {
      // A uniform array's stride is 16 bytes: f32 element i is component i % 4 of vec4 i / 4.
      out.push(
        `@group(0) @binding(${index}) var<uniform> ${name}: array<vec4<f32>, ${spec.quads}>;`,
        spec.type === "vec4f"
          ? `fn load_${name}(i: u32) -> vec4<f32> { return ${name}[i]; }`
          : `fn load_${name}(i: u32) -> f32 { return ${name}[i >> 2u][i & 3u]; }`,
      );
      return;
    }
    out.push(
      `@group(0) @binding(${index}) var<storage, ${spec.access}> ${name}: array<${
        spec.atomic ? `atomic<${wgslType(spec.type)}>` : wgslType(spec.type)
      }>;`,
    );
    if (spec.via === "buffer") {
      out.push(`fn load_${name}(i: u32) -> ${wgslType(spec.type)} { return ${name}[i]; }`);
    }
  });
  const params = Object.entries(kernel.params);
  // An empty struct is not valid WGSL; kernels without parameters still get one field.
  const fields = params.length > 0 ? params : [["unused_", "u32"] as const];
  out.push(`struct Params { ${fields.map(([n, t]) => `${n}: ${t},`).join(" ")} }`);
  out.push(`@group(0) @binding(${names.length}) var<uniform> params: Params;`);
  for (const [name, type] of Object.entries(kernel.constants)) {
    out.push(`const ${name}: ${type} = ${literal(type, constants[name])};`);
  }
  const [x, y, z] = kernel.workgroupSize(constants as never);
  out.push(`const WG_X: u32 = ${x}u;`, `const WG_Y: u32 = ${y}u;`, `const WG_Z: u32 = ${z}u;`);
  // The invocation's index on a linear grid folded into rows (see linearGrid).
  out.push(
    "fn linear_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 " +
      "{ return gid.x + gid.y * groups.x * WG_X; }",
  );
  return { text: out.join("\n") + "\n", lines: out.length };
};

/** Byte size of the uniform block for a kernel's parameters (16-byte rounded). */
export const paramsByteSize = (kernel: Kernel): number =>
  Math.max(16, Math.ceil((Object.keys(kernel.params).length * 4) / 16) * 16);

/** Writes parameter values into `view` at `offset` in declaration order. */
export const writeParams = (
  kernel: Kernel,
  values: Record<string, number>,
  view: DataView,
  offset: number,
): void => {
  let at = offset;
  for (const [name, type] of Object.entries(kernel.params)) {
    const v = values[name];
    if (type === "f32") view.setFloat32(at, v, true);
    else if (type === "i32") view.setInt32(at, v, true);
    else view.setUint32(at, v >>> 0, true);
    at += 4;
  }
};

/** WebGPU's default limit on workgroups per grid dimension. */
const MAX_GROUPS_PER_DIM = 65535;

let foldLimit: number | undefined;

/**
 * The per-dimension workgroup count past which {@link linearGrid} folds a
 * grid into two dimensions: WebGPU's 65535, or `GSC_GRID_FOLD=N` (tests set a
 * small N so every kernel's folded index path runs on small inputs too).
 */
export const gridFoldLimit = (): number => {
  if (foldLimit === undefined) {
    let n = NaN;
    try {
      n = Number(Deno.env.get("GSC_GRID_FOLD"));
    } catch {
      // No environment access: the default.
    }
    foldLimit = Number.isInteger(n) && n >= 1 && n <= MAX_GROUPS_PER_DIM ? n : MAX_GROUPS_PER_DIM;
  }
  return foldLimit;
};

/**
 * Workgroup grid for `count` independent items at `perGroup` items a group,
 * folded into two dimensions when it exceeds the per-dimension limit. Kernels
 * recover the linear index with the header's `linear_index(gid, groups)`
 * (`gid.x + gid.y * groups.x * WG_X`) and skip the
 * items past `count` the fold adds.
 */
export const linearGrid = (
  count: number,
  perGroup: number,
  maxPerDim = gridFoldLimit(),
): Grid => {
  const groups = Math.max(1, Math.ceil(count / perGroup));
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y, 1];
};
