"""transformers' `CLIPTextModel` and `CLIPTextModelWithProjection`, with transformers' parameter names.

Pre-LayerNorm encoder layers with a causal mask and no padding mask (diffusers' Stable Diffusion
pipelines call it with input_ids only), then the final layer norm. The checkpoint's
`text_model.embeddings.position_ids` buffer (present in files saved by older transformers) is
ignored: positions are always 0..L-1.
"""

from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from attention import multi_head_attention
from checkpoint_weights import CheckpointError
from config_rules import check_config, one_of, positive_int

IGNORED_STATE_KEYS = frozenset({"text_model.embeddings.position_ids"})

ACTIVATIONS = {
    "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
    "gelu": F.gelu,  # transformers' "gelu" is the exact erf form
}

RULES = {
    "model_type": one_of("clip_text_model"),
    "hidden_act": one_of(*ACTIVATIONS),
    "hidden_size": positive_int,
    "intermediate_size": positive_int,
    "num_attention_heads": positive_int,
    "num_hidden_layers": positive_int,
    "max_position_embeddings": positive_int,
    "vocab_size": positive_int,
    "layer_norm_eps": lambda v: isinstance(v, float) and v > 0,
}
# training, head-of-model and bookkeeping keys that do not change last_hidden_state
IGNORED_CONFIG_KEYS = ("attention_dropout", "dropout", "initializer_factor", "initializer_range",
                       "bos_token_id", "eos_token_id", "pad_token_id", "projection_dim", "torch_dtype",
                       "transformers_version", "attention_probs_dropout_prob", "hidden_dropout_prob",
                       "use_cache", "output_attentions", "output_hidden_states", "return_dict")


def check_text_config(config: dict, path: str, architecture: str = "CLIPTextModel") -> None:
    """`architecture`: CLIPTextModel, or CLIPTextModelWithProjection (SDXL's second encoder), whose
    projection_dim is then read."""
    rules = dict(RULES, architectures=one_of([architecture]))
    required = ["hidden_size", "intermediate_size", "num_attention_heads", "num_hidden_layers",
                "max_position_embeddings", "vocab_size"]
    if architecture == "CLIPTextModelWithProjection":
        rules["projection_dim"] = positive_int
        required.append("projection_dim")
    check_config(config, path, rules, set(IGNORED_CONFIG_KEYS) - set(rules))
    for key in required:
        if key not in config:
            raise CheckpointError(f"{path}: missing {key}")
    if config["hidden_size"] % config["num_attention_heads"]:
        raise CheckpointError(f"{path}: unsupported num_attention_heads = {config['num_attention_heads']} "
                              f"(does not divide hidden_size {config['hidden_size']})")


class _SelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, causal: torch.Tensor) -> torch.Tensor:
        out = multi_head_attention(self.q_proj(x), self.k_proj(x), self.v_proj(x), self.heads, mask=causal)
        return self.out_proj(out)


class _Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int, act: str):
        super().__init__()
        self.act = ACTIVATIONS[act]
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class _EncoderLayer(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        dim, eps = config["hidden_size"], config.get("layer_norm_eps", 1e-5)
        self.self_attn = _SelfAttention(dim, config["num_attention_heads"])
        self.layer_norm1 = nn.LayerNorm(dim, eps=eps)
        self.mlp = _Mlp(dim, config["intermediate_size"], config.get("hidden_act", "quick_gelu"))
        self.layer_norm2 = nn.LayerNorm(dim, eps=eps)

    def forward(self, x: torch.Tensor, causal: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.layer_norm1(x), causal)
        return x + self.mlp(self.layer_norm2(x))


class _Embeddings(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        self.token_embedding = nn.Embedding(config["vocab_size"], config["hidden_size"])
        self.position_embedding = nn.Embedding(config["max_position_embeddings"], config["hidden_size"])

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        positions = self.position_embedding.weight[: input_ids.shape[1]]
        return self.token_embedding(input_ids) + positions.unsqueeze(0)


class _Encoder(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        self.layers = nn.ModuleList([_EncoderLayer(config) for _ in range(config["num_hidden_layers"])])


class _TextTransformer(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        self.embeddings = _Embeddings(config)
        self.encoder = _Encoder(config)
        self.final_layer_norm = nn.LayerNorm(config["hidden_size"], eps=config.get("layer_norm_eps", 1e-5))


class CLIPTextModel(nn.Module):
    """transformers' `CLIPTextModel`, or `CLIPTextModelWithProjection` with `projection`, as one of the
    contract's text encoders: input_ids int64 [B, L] (, clip_skip int64 [B]) -> hidden states [B, L, D]
    (, text_embeds [B, P] with `projection`).

    The hidden states are the last layer's after the final layer norm (SD 1.x / 2.x), or with
    `penultimate` the layer before it without the norm (SDXL's hidden_states[-2]). clip_skip moves each
    row that many layers further down, as diffusers' encode_prompt does: SD 1.x / 2.x
    hidden_states[-(k + 1)] then the final layer norm, SDXL hidden_states[-(k + 2)] without it; without
    clip_skip the result is that of k = 0. text_embeds never move: transformers' pooled output, the
    final-layer-normed last layer at each row's first EOS, which is argmax(ids) for CLIP's vocabulary
    (EOS is its largest id; SDXL's configs carry the legacy eos_token_id 2, which takes that path)."""

    def __init__(self, config: dict, penultimate: bool = False, projection: bool = False):
        super().__init__()
        self.text_model = _TextTransformer(config)
        # hidden_states[-offset] is the default layer; hidden_states[0] is the embeddings
        self.offset = 2 if penultimate else 1
        if projection:
            self.text_projection = nn.Linear(config["hidden_size"], config["projection_dim"], bias=False)
        else:
            self.text_projection = None

    def max_clip_skip(self) -> int:
        """The largest clip_skip that still leaves one encoder layer (hidden_states[1])."""
        return len(self.text_model.encoder.layers) - self.offset

    def hidden_states(self, input_ids: torch.Tensor) -> List[torch.Tensor]:
        """transformers' output_hidden_states: the embeddings, then every layer's output."""
        t = self.text_model
        x = t.embeddings(input_ids)
        length = input_ids.shape[1]
        causal = torch.ones(length, length, dtype=torch.bool, device=input_ids.device).triu(1)
        states = [x]
        for layer in t.encoder.layers:
            x = layer(x, causal)
            states.append(x)
        return states

    def forward(self, input_ids: torch.Tensor, clip_skip: Optional[torch.Tensor] = None):
        states = self.hidden_states(input_ids)
        if clip_skip is None:
            hidden = states[-self.offset]
        else:
            # one layer per row: [B, layers + 1, L, D] indexed at len - offset - k
            index = (len(states) - self.offset - clip_skip).view(-1, 1, 1, 1)
            hidden = torch.take_along_dim(torch.stack(states, dim=1), index, dim=1).squeeze(1)
        if self.offset == 1:
            hidden = self.text_model.final_layer_norm(hidden)
        if self.text_projection is None:
            return hidden
        last = self.text_model.final_layer_norm(states[-1])
        eos = input_ids.argmax(dim=-1).view(-1, 1, 1)
        pooled = torch.take_along_dim(last, eos, dim=1).squeeze(1)
        return hidden, self.text_projection(pooled)
