/**
 * gsc-webgpu: class-incremental semantic segmentation trained in WGSL compute
 * shaders on WebGPU, with the GSC method and the baselines of its field.
 *
 * @module
 */
