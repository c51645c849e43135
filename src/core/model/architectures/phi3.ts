/**
 * Phi-3 (model_type "phi3"): Llama's config fields and ONNX interface (rotary positions,
 * grouped-query cache); its fused qkv_proj and gate_up_proj are inside the graph. No fused rebuild.
 * Phi-3's long-context variants scale their rotary embeddings inside the graph too.
 */
import type { Architecture } from './architecture';
import { llamaLike } from './llama';

export const phi3: Architecture = llamaLike('phi3', 'Phi-3');
