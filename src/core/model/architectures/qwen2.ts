/**
 * Qwen2 (model_type "qwen2": Qwen2 and Qwen2.5): Llama's config fields and ONNX interface (rotary
 * positions, grouped-query cache); its one difference, biases on the q, k and v projections, is
 * inside the graph. No fused rebuild.
 */
import type { Architecture } from './architecture';
import { llamaLike } from './llama';

export const qwen2: Architecture = llamaLike('qwen2', 'Qwen2');
