//! The kernels of [`crate::kernels`] as in-place candle custom ops, so the encoder is a chain of candle tensor
//! operations that write into a reused workspace ([`crate::bert`]): no per-op allocation, no zero-filling, no
//! page faults from fresh memory on every layer.

use candle_core::{bail, CpuStorage, InplaceOp1, InplaceOp2, Layout, Result};

use crate::kernels::{self, AttentionShape, LayerNormParams};
use crate::packed::PackedLinear;

/// The contiguous `f32` data of a CPU tensor.
fn contiguous<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&storage.as_slice::<f32>()?[start..end]),
        None => bail!("memlane-embed: expected a contiguous tensor"),
    }
}

/// The contiguous `f32` data of a CPU tensor, writable.
fn contiguous_mut<'a>(storage: &'a mut CpuStorage, layout: &Layout) -> Result<&'a mut [f32]> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        bail!("memlane-embed: expected a contiguous tensor")
    };
    match storage {
        CpuStorage::F32(data) => Ok(&mut data[start..end]),
        _ => bail!("memlane-embed: expected an f32 tensor"),
    }
}

/// The `(rows, cols)` of a 2-D layout.
fn dims2(layout: &Layout) -> Result<(usize, usize)> {
    match layout.shape().dims() {
        [r, c] => Ok((*r, *c)),
        dims => bail!("memlane-embed: expected a 2-D tensor, got shape {dims:?}"),
    }
}

/// `dst = x · W + b` with a [`PackedLinear`]: `dst` is `[tokens, out]`, `x` `[tokens, in]`.
pub(crate) struct Linear<'a> {
    pub(crate) layer: &'a PackedLinear,
}

impl InplaceOp2 for Linear<'_> {
    fn name(&self) -> &'static str {
        "memlane-linear"
    }

    fn cpu_fwd(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        x: &CpuStorage,
        x_l: &Layout,
    ) -> Result<()> {
        let (m, k) = dims2(x_l)?;
        let (k2, n) = (self.layer.k(), self.layer.n());
        if k != k2 || dims2(dst_l)? != (m, n) {
            bail!(
                "memlane-embed: linear [{m}, {k}] x [{k2}, {n}] into {:?}",
                dst_l.shape()
            );
        }
        if !self
            .layer
            .forward(contiguous(x, x_l)?, m, contiguous_mut(dst, dst_l)?)
        {
            bail!("memlane-embed: linear operand sizes do not match");
        }
        Ok(())
    }
}

/// `x = gelu(x)`.
pub(crate) struct Gelu;

impl InplaceOp1 for Gelu {
    fn name(&self) -> &'static str {
        "memlane-gelu"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        kernels::gelu_in_place(contiguous_mut(storage, layout)?);
        Ok(())
    }
}

/// `x = layer_norm(x + residual)`, on two `[tokens, width]` tensors (`x` first).
pub(crate) struct AddLayerNorm<'a> {
    pub(crate) ln: LayerNormParams<'a>,
}

impl InplaceOp2 for AddLayerNorm<'_> {
    fn name(&self) -> &'static str {
        "memlane-add-layer-norm"
    }

    fn cpu_fwd(
        &self,
        x: &mut CpuStorage,
        x_l: &Layout,
        r: &CpuStorage,
        r_l: &Layout,
    ) -> Result<()> {
        if x_l.shape() != r_l.shape()
            || dims2(x_l)?.1 != self.ln.gamma.len()
            || self.ln.beta.len() != self.ln.gamma.len()
        {
            bail!("memlane-embed: add-layer-norm shape mismatch");
        }
        kernels::add_layer_norm(contiguous_mut(x, x_l)?, contiguous(r, r_l)?, &self.ln);
        Ok(())
    }
}

/// Self-attention of packed sequences: `dst` `[tokens, hidden]` from `qkv` `[tokens, 3 * hidden]` (query, key and
/// value projections, queries pre-scaled).
pub(crate) struct PackedAttention<'a> {
    pub(crate) seqs: &'a [(usize, usize)],
    pub(crate) shape: AttentionShape,
}

impl InplaceOp2 for PackedAttention<'_> {
    fn name(&self) -> &'static str {
        "memlane-packed-attention"
    }

    fn cpu_fwd(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        qkv: &CpuStorage,
        qkv_l: &Layout,
    ) -> Result<()> {
        let hidden = self.shape.heads * self.shape.head_dim;
        let (tokens, width) = dims2(qkv_l)?;
        if width != 3 * hidden || !self.shape.supported() || dims2(dst_l)? != (tokens, hidden) {
            bail!("memlane-embed: attention shape mismatch");
        }
        if !covers(self.seqs, tokens) {
            bail!("memlane-embed: attention sequences do not cover the tokens");
        }
        kernels::attention(
            contiguous(qkv, qkv_l)?,
            self.seqs,
            self.shape,
            contiguous_mut(dst, dst_l)?,
        );
        Ok(())
    }
}

/// Whether `seqs` are non-empty and cover `0..tokens` back to back, in order.
pub(crate) fn covers(seqs: &[(usize, usize)], tokens: usize) -> bool {
    let mut next = 0;
    for &(start, len) in seqs {
        if start != next || len == 0 {
            return false;
        }
        next += len;
    }
    next == tokens
}

/// `dst = layer_norm(word[id] + position[i] + token_type[0])` for packed sequences: the embedding layer.
pub(crate) struct Embed<'a> {
    pub(crate) ids: &'a [u32],
    pub(crate) seqs: &'a [(usize, usize)],
    /// `[vocab, width]`.
    pub(crate) words: &'a [f32],
    /// `[max_positions, width]`, the token type 0 embedding included.
    pub(crate) positions: &'a [f32],
    pub(crate) ln: LayerNormParams<'a>,
}

impl InplaceOp1 for Embed<'_> {
    fn name(&self) -> &'static str {
        "memlane-embed-tokens"
    }

    fn cpu_fwd(&self, dst: &mut CpuStorage, dst_l: &Layout) -> Result<()> {
        let (tokens, width) = dims2(dst_l)?;
        let vocab = self.words.len() / width.max(1);
        let max_len = self.positions.len() / width.max(1);
        if width != self.ln.gamma.len() || tokens != self.ids.len() || !covers(self.seqs, tokens) {
            bail!("memlane-embed: embedding shape mismatch");
        }
        if self.seqs.iter().any(|&(_, len)| len > max_len) {
            bail!("memlane-embed: a sequence is longer than the {max_len} positions of the model");
        }
        if let Some(&bad) = self.ids.iter().find(|&&id| id as usize >= vocab) {
            bail!("memlane-embed: token id {bad} is outside the vocabulary");
        }
        let dst = contiguous_mut(dst, dst_l)?;
        kernels::embed_tokens(self.ids, self.seqs, self.words, self.positions, width, dst);
        kernels::add_layer_norm(dst, &[], &self.ln);
        Ok(())
    }
}
