//! The BERT encoder of all-MiniLM-L6-v2, laid out for CPU inference on packed sequences.
//!
//! Sequences of a batch are packed back to back into one `[tokens, hidden]` matrix with no padding at all: every
//! projection and feed-forward layer is one matrix product over all real tokens of the batch (a [`PackedLinear`]:
//! weights packed once at load, f16 by default; `gemm` for large batches), and only attention, which
//! [`PackedAttention`] computes per sequence, needs to know where one sequence ends. The query, key and value
//! weights are fused into one `[hidden, 3 * hidden]` product with the attention scale folded into the query part,
//! and biases are fused into the products.
//!
//! Inputs of fewer tokens than the packed kernel's limit (one text, a few short ones) run as one team pass
//! ([`team_pass`]): every step of every layer in a single parallel region, the pool's threads splitting each step
//! and waiting briefly for each other between dependent steps. Larger inputs run as a chain of in-place candle ops
//! writing into a [`Workspace`] of five tensors, each op splitting its own work over the pool. Both keep their
//! buffers between calls, so a forward pass allocates nothing large but its result.

use std::sync::Mutex;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{Config, HiddenAct, PositionEmbeddingType};

use crate::kernels::{self, AttentionShape, LayerNormParams};
use crate::ops::{covers, AddLayerNorm, Embed, Gelu, Linear, PackedAttention};
use crate::packed::{PackedLinear, Precision};

mod team_pass;

/// The environment variable that turns the one-region pass of short inputs off (`0`), for comparisons: every
/// input then takes the chain of candle ops.
pub(crate) const TEAM_PASS_ENV: &str = "MEMLANE_EMBED_TEAM_PASS";

/// Whether short inputs take the one-region pass ([`TEAM_PASS_ENV`] not `0`), read once.
fn team_pass_enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var(TEAM_PASS_ENV).map_or(true, |v| v.trim() != "0"))
}

/// Layer-norm weights.
struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl Norm {
    fn load(vb: VarBuilder<'_>, width: usize) -> candle_core::Result<Self> {
        Ok(Self {
            gamma: vb.get(width, "weight")?.to_vec1()?,
            beta: vb.get(width, "bias")?.to_vec1()?,
        })
    }

    fn params(&self, eps: f32) -> LayerNormParams<'_> {
        LayerNormParams {
            gamma: &self.gamma,
            beta: &self.beta,
            eps,
        }
    }
}

/// One encoder layer; the linear layers packed for [`Linear`].
struct Layer {
    qkv: PackedLinear,
    attn_out: PackedLinear,
    attn_norm: Norm,
    up: PackedLinear,
    out_norm: Norm,
    down: PackedLinear,
}

/// Packs a `[in, out]` weight tensor and its bias.
fn pack(w: &Tensor, bias: &Tensor, precision: Precision) -> candle_core::Result<PackedLinear> {
    let (k, n) = w.dims2()?;
    let w = w.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    PackedLinear::pack(&w, &bias.to_vec1::<f32>()?, k, n, precision)
        .ok_or_else(|| candle_core::Error::Msg("memlane-embed: linear weight shape".into()))
}

/// A packed copy of a PyTorch linear layer (weight stored `[out, in]`).
fn linear(
    vb: &VarBuilder<'_>,
    out: usize,
    inp: usize,
    name: &str,
    precision: Precision,
) -> candle_core::Result<PackedLinear> {
    pack(
        &vb.get((out, inp), &format!("{name}.weight"))?.t()?,
        &vb.get(out, &format!("{name}.bias"))?,
        precision,
    )
}

impl Layer {
    fn load(vb: VarBuilder<'_>, cfg: &Config, precision: Precision) -> candle_core::Result<Self> {
        let h = cfg.hidden_size;
        let scale = 1.0 / ((h / cfg.num_attention_heads) as f64).sqrt();
        let attn = vb.pp("attention");
        let sa = attn.pp("self");
        let q = (sa.get((h, h), "query.weight")? * scale)?;
        let k = sa.get((h, h), "key.weight")?;
        let v = sa.get((h, h), "value.weight")?;
        let qkv = Tensor::cat(&[&q, &k, &v], 0)?.t()?;
        let qb = (sa.get(h, "query.bias")? * scale)?;
        let qkv_bias = Tensor::cat(
            &[&qb, &sa.get(h, "key.bias")?, &sa.get(h, "value.bias")?],
            0,
        )?;
        let out = attn.pp("output");
        let i = cfg.intermediate_size;
        Ok(Self {
            qkv: pack(&qkv, &qkv_bias, precision)?,
            attn_out: linear(&out, h, h, "dense", precision)?,
            attn_norm: Norm::load(out.pp("LayerNorm"), h)?,
            up: linear(&vb, i, h, "intermediate.dense", precision)?,
            down: linear(&vb, h, i, "output.dense", precision)?,
            out_norm: Norm::load(vb.pp("output").pp("LayerNorm"), h)?,
        })
    }

    /// One layer over the first `tokens` rows of `ws`, reading and writing `ws.x`.
    fn forward(
        &self,
        ws: &Views,
        seqs: &[(usize, usize)],
        shape: AttentionShape,
        eps: f32,
    ) -> candle_core::Result<()> {
        ws.qkv.inplace_op2(&ws.x, &Linear { layer: &self.qkv })?;
        ws.ctx
            .inplace_op2(&ws.qkv, &PackedAttention { seqs, shape })?;
        ws.attn.inplace_op2(
            &ws.ctx,
            &Linear {
                layer: &self.attn_out,
            },
        )?;
        ws.attn.inplace_op2(
            &ws.x,
            &AddLayerNorm {
                ln: self.attn_norm.params(eps),
            },
        )?;
        ws.up.inplace_op2(&ws.attn, &Linear { layer: &self.up })?;
        ws.up.inplace_op1(&Gelu)?;
        ws.x.inplace_op2(&ws.up, &Linear { layer: &self.down })?;
        ws.x.inplace_op2(
            &ws.attn,
            &AddLayerNorm {
                ln: self.out_norm.params(eps),
            },
        )
    }
}

/// Scratch tensors for one forward pass of up to `rows` tokens: the hidden state and each layer's intermediates.
struct Workspace {
    rows: usize,
    x: Tensor,
    qkv: Tensor,
    ctx: Tensor,
    attn: Tensor,
    up: Tensor,
}

/// The first `tokens` rows of each workspace tensor.
struct Views {
    x: Tensor,
    qkv: Tensor,
    ctx: Tensor,
    attn: Tensor,
    up: Tensor,
}

impl Workspace {
    fn new(rows: usize, hidden: usize, intermediate: usize) -> candle_core::Result<Self> {
        let t = |width: usize| Tensor::zeros((rows, width), DType::F32, &Device::Cpu);
        Ok(Self {
            rows,
            x: t(hidden)?,
            qkv: t(3 * hidden)?,
            ctx: t(hidden)?,
            attn: t(hidden)?,
            up: t(intermediate)?,
        })
    }

    fn views(&self, tokens: usize) -> candle_core::Result<Views> {
        Ok(Views {
            x: self.x.narrow(0, 0, tokens)?,
            qkv: self.qkv.narrow(0, 0, tokens)?,
            ctx: self.ctx.narrow(0, 0, tokens)?,
            attn: self.attn.narrow(0, 0, tokens)?,
            up: self.up.narrow(0, 0, tokens)?,
        })
    }
}

/// How many idle workspaces are kept for reuse (one per concurrent caller, up to this many).
const KEEP_WORKSPACES: usize = 2;

/// The encoder: embeddings, layers, and the mean pooling + L2 normalization of sentence-transformers.
pub(crate) struct Bert {
    /// `[vocab, hidden]`.
    words: Vec<f32>,
    /// `[max_positions, hidden]`: position embeddings plus the token type 0 embedding.
    positions: Vec<f32>,
    embed_norm: Norm,
    layers: Vec<Layer>,
    hidden: usize,
    intermediate: usize,
    max_positions: usize,
    shape: AttentionShape,
    eps: f32,
    workspaces: Mutex<Vec<Workspace>>,
    team_buffers: Mutex<Vec<team_pass::Buffers>>,
}

impl Bert {
    /// Checks that `cfg` describes a model this implementation runs.
    pub(crate) fn check_config(cfg: &Config) -> Result<(), String> {
        if cfg.hidden_act != HiddenAct::Gelu {
            return Err(format!(
                "hidden_act {:?} is not supported (only gelu)",
                cfg.hidden_act
            ));
        }
        if cfg.position_embedding_type != PositionEmbeddingType::Absolute {
            return Err("only absolute position embeddings are supported".into());
        }
        if cfg.num_attention_heads == 0 || !cfg.hidden_size.is_multiple_of(cfg.num_attention_heads)
        {
            return Err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                cfg.hidden_size, cfg.num_attention_heads
            ));
        }
        let shape = AttentionShape {
            heads: cfg.num_attention_heads,
            head_dim: cfg.hidden_size / cfg.num_attention_heads,
        };
        if !shape.supported() {
            return Err(format!(
                "attention head size {} is not supported (32 or 64)",
                shape.head_dim
            ));
        }
        if cfg.type_vocab_size == 0 || cfg.max_position_embeddings == 0 || cfg.vocab_size == 0 {
            return Err("empty vocabulary, position or token type table".into());
        }
        Ok(())
    }

    /// Loads the weights from a safetensors file's bytes.
    pub(crate) fn load(safetensors: Vec<u8>, cfg: &Config) -> candle_core::Result<Self> {
        let vb = VarBuilder::from_buffered_safetensors(safetensors, DType::F32, &Device::Cpu)?;
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else {
            vb
        };
        let h = cfg.hidden_size;
        let emb = vb.pp("embeddings");
        let words = emb.get((cfg.vocab_size, h), "word_embeddings.weight")?;
        let positions = emb.get(
            (cfg.max_position_embeddings, h),
            "position_embeddings.weight",
        )?;
        let token_type = emb
            .get((cfg.type_vocab_size, h), "token_type_embeddings.weight")?
            .get(0)?;
        let positions = positions.broadcast_add(&token_type)?;
        let precision = Precision::default_for_cpu();
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| Layer::load(vb.pp(format!("encoder.layer.{i}")), cfg, precision))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            words: words.flatten_all()?.to_vec1()?,
            positions: positions.flatten_all()?.to_vec1()?,
            embed_norm: Norm::load(emb.pp("LayerNorm"), h)?,
            layers,
            hidden: h,
            intermediate: cfg.intermediate_size,
            max_positions: cfg.max_position_embeddings,
            shape: AttentionShape {
                heads: cfg.num_attention_heads,
                head_dim: h / cfg.num_attention_heads,
            },
            eps: cfg.layer_norm_eps as f32,
            workspaces: Mutex::new(Vec::new()),
            team_buffers: Mutex::new(Vec::new()),
        })
    }

    /// The longest sequence the position table allows.
    pub(crate) fn max_positions(&self) -> usize {
        self.max_positions
    }

    /// The width of the output vectors.
    pub(crate) fn hidden(&self) -> usize {
        self.hidden
    }

    /// An idle workspace of at least `tokens` rows, or a new one.
    fn take_workspace(&self, tokens: usize) -> candle_core::Result<Workspace> {
        let mut pool = self.workspaces.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = pool.iter().position(|w| w.rows >= tokens) {
            return Ok(pool.swap_remove(i));
        }
        // None is large enough: grow the largest (drop it, allocate anew) rather than keep both.
        let largest = pool.iter().map(|w| w.rows).max().unwrap_or(0);
        if let Some(i) = pool.iter().position(|w| w.rows == largest) {
            pool.swap_remove(i);
        }
        drop(pool);
        Workspace::new(
            tokens.max(largest).next_multiple_of(64),
            self.hidden,
            self.intermediate,
        )
    }

    /// Idle team-pass buffers of at least `tokens` rows, or new ones.
    fn take_buffers(&self, tokens: usize) -> team_pass::Buffers {
        let mut pool = self.team_buffers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = pool.iter().position(|b| b.rows >= tokens) {
            return pool.swap_remove(i);
        }
        drop(pool);
        team_pass::Buffers::new(tokens.next_multiple_of(32), self.hidden, self.intermediate)
    }

    fn put_buffers(&self, buffers: team_pass::Buffers) {
        let mut pool = self.team_buffers.lock().unwrap_or_else(|p| p.into_inner());
        pool.push(buffers);
        if pool.len() > KEEP_WORKSPACES {
            pool.sort_by_key(|b| std::cmp::Reverse(b.rows));
            pool.truncate(KEEP_WORKSPACES);
        }
    }

    fn put_workspace(&self, ws: Workspace) {
        let mut pool = self.workspaces.lock().unwrap_or_else(|p| p.into_inner());
        pool.push(ws);
        if pool.len() > KEEP_WORKSPACES {
            // Keep the largest ones.
            pool.sort_by_key(|w| std::cmp::Reverse(w.rows));
            pool.truncate(KEEP_WORKSPACES);
        }
    }

    /// Embeds packed sequences: `ids` holds the token ids of all sequences back to back and `seqs` each one's
    /// `(start, len)`. Returns one L2-normalized mean-pooled vector per sequence.
    pub(crate) fn forward(
        &self,
        ids: &[u32],
        seqs: &[(usize, usize)],
    ) -> candle_core::Result<Vec<Vec<f32>>> {
        if rayon::current_thread_index().is_none() && rayon::current_num_threads() > 1 {
            // Called from outside the pool: hop onto a pool thread once for the whole pass, so its parallel steps
            // are forks (or one team pass) within the pool, instead of each one injecting a job and putting this
            // thread to sleep until it is done. (Running the team pass on the caller instead, with pool helpers,
            // measured slower: three threads on two cores.)
            return rayon::scope(|_| self.forward_in_pool(ids, seqs));
        }
        self.forward_in_pool(ids, seqs)
    }

    /// [`Bert::forward`] on the current thread.
    fn forward_in_pool(
        &self,
        ids: &[u32],
        seqs: &[(usize, usize)],
    ) -> candle_core::Result<Vec<Vec<f32>>> {
        let tokens = ids.len();
        if !covers(seqs, tokens) {
            candle_core::bail!("memlane-embed: malformed packed batch");
        }
        if tokens == 0 {
            return Ok(Vec::new());
        }
        if team_pass_enabled() && Self::team_pass_fits(tokens) {
            return self.forward_team(ids, seqs);
        }
        let ws = self.take_workspace(tokens)?;
        let views = ws.views(tokens)?;
        views.x.inplace_op1(&Embed {
            ids,
            seqs,
            words: &self.words,
            positions: &self.positions,
            ln: self.embed_norm.params(self.eps),
        })?;
        for layer in &self.layers {
            layer.forward(&views, seqs, self.shape, self.eps)?;
        }
        let x = views.x.flatten_all()?.to_vec1::<f32>()?;
        drop(views);
        self.put_workspace(ws);
        Ok(kernels::mean_pool_normalize(&x, seqs, self.hidden))
    }
}
