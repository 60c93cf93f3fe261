//! The forward pass of a short input (fewer tokens than the packed kernel's limit: one text, a few short ones) as
//! **one** [`crate::team`] pass: every step of every layer is a phase whose tasks the calling thread and the idle
//! pool workers claim in order, with a cheap wait between dependent phases, instead of ~40 separate fork-joins per
//! text (each one a wake-up of the other worker, a steal and a join, and the small steps serial in between).
//!
//! Per layer: the fused query/key/value product, attention, the attention output product, add + layer norm, the
//! up product with GELU, the down product, add + layer norm. Products split their column panels between tasks
//! (each thread streams only its share of the weights), attention splits heads, layer norms split row blocks.
//! Every producer writes its output also (or only) in the transposed block layout the next product reads
//! ([`packed::transposed_index`]), so no step transposes a whole matrix on one thread.
//!
//! The tasks share the pass's buffers through [`Shared`] raw views: each task writes a region no other task of its
//! phase touches, and reads only what earlier phases wrote (see the table on [`Step`]).

use std::ops::Range;

use super::{Bert, Layer};
use crate::kernels;
use crate::packed::{self, PackedLinear};
use crate::team;

/// Tasks per thread for products and attention: more than one, so that a helper that starts late or is
/// preempted still takes a share while the other thread carries on.
const TASKS_PER_THREAD: usize = 2;

/// The buffers of one pass of up to `rows` tokens (reused between passes).
pub(super) struct Buffers {
    pub(super) rows: usize,
    /// `[rows, hidden]`: the hidden state (row-major, read by the layer norms and the pooling).
    x: Vec<f32>,
    /// The hidden state in the transposed block layout (read by the query/key/value product).
    xt: Vec<f32>,
    /// `[rows, 3 * hidden]`.
    qkv: Vec<f32>,
    /// The attention context, transposed block layout only.
    ctxt: Vec<f32>,
    /// `[rows, hidden]`: the attention block's output.
    attn: Vec<f32>,
    /// `attn`, transposed block layout.
    attnt: Vec<f32>,
    /// `[rows, intermediate]`.
    up: Vec<f32>,
    /// GELU of `up`, transposed block layout.
    upt: Vec<f32>,
}

impl Buffers {
    pub(super) fn new(rows: usize, hidden: usize, intermediate: usize) -> Self {
        let v = |width: usize| vec![0.0f32; rows * width];
        Self {
            rows,
            x: v(hidden),
            xt: v(hidden),
            qkv: v(3 * hidden),
            ctxt: v(hidden),
            attn: v(hidden),
            attnt: v(hidden),
            up: v(intermediate),
            upt: v(intermediate),
        }
    }
}

/// A buffer shared by the tasks of one pass: a raw view, so that tasks on different threads can write disjoint
/// parts of it (row segments, column strips, single elements) that are not one contiguous range per task.
#[derive(Clone, Copy)]
struct Shared {
    ptr: *mut f32,
    len: usize,
}

// SAFETY: a `Shared` is a view of a `Vec<f32>` that `Bert::forward_team` borrows mutably for the whole pass, which
// outlives every task (`team::run` returns only after all of them). The tasks only access it through the methods
// below, whose contracts (upheld by the phase order of `team::run` and the disjoint regions of `Step`) exclude
// data races.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Shared {
    fn new(v: &mut [f32]) -> Self {
        Self {
            ptr: v.as_mut_ptr(),
            len: v.len(),
        }
    }

    /// # Safety
    /// No other thread may write `range` while the slice lives.
    unsafe fn slice(&self, range: Range<usize>) -> &[f32] {
        assert!(
            range.start <= range.end && range.end <= self.len,
            "in bounds"
        );
        // SAFETY: in bounds of the live buffer (asserted); no concurrent writer per the contract.
        unsafe { std::slice::from_raw_parts(self.ptr.add(range.start), range.len()) }
    }

    /// # Safety
    /// No other thread may read or write `range` while the slice lives.
    #[allow(clippy::mut_from_ref)]
    unsafe fn slice_mut(&self, range: Range<usize>) -> &mut [f32] {
        assert!(
            range.start <= range.end && range.end <= self.len,
            "in bounds"
        );
        // SAFETY: in bounds of the live buffer (asserted); exclusive per the contract.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(range.start), range.len()) }
    }

    /// # Safety
    /// No other thread may read or write element `i` during the call.
    unsafe fn write(&self, i: usize, v: f32) {
        assert!(i < self.len, "in bounds");
        // SAFETY: in bounds (asserted); exclusive per the contract.
        unsafe { self.ptr.add(i).write(v) }
    }
}

/// The steps of a layer, one phase each. What each task reads and writes (`m` tokens):
///
/// | step | task owns | writes | reads (written by earlier phases) |
/// |---|---|---|---|
/// | embed (phase 0) | row blocks | `x`, `xt` rows | ids, tables |
/// | `Qkv` | column panels | `qkv` columns | `xt` |
/// | `Attention` | (sequence, head) pairs | `ctxt` elements of its head and rows | `qkv` rows of its sequence |
/// | `Out` | column panels | `attn` columns | `ctxt` |
/// | `Norm1` | row blocks | `attn`, `attnt` rows | `x` rows |
/// | `Up` | column panels | `up`, `upt` columns | `attnt` |
/// | `Down` | column panels | `x` columns | `upt` |
/// | `Norm2` | row blocks | `x`, `xt` rows | `attn` rows |
#[derive(Clone, Copy)]
enum Step {
    Qkv,
    Attention,
    Out,
    Norm1,
    Up,
    Down,
    Norm2,
}

const STEPS: [Step; 7] = [
    Step::Qkv,
    Step::Attention,
    Step::Out,
    Step::Norm1,
    Step::Up,
    Step::Down,
    Step::Norm2,
];

/// Part `i` of `parts` near-equal parts of `0..total`.
fn part(total: usize, parts: usize, i: usize) -> Range<usize> {
    i * total / parts..(i + 1) * total / parts
}

/// One pass's shapes and task counts.
struct Plan<'a> {
    bert: &'a Bert,
    ids: &'a [u32],
    seqs: &'a [(usize, usize)],
    m: usize,
    /// Rows per transposed block.
    mr: usize,
    /// Tasks of the row-block steps and of the column-split steps.
    row_tasks: usize,
    col_tasks: usize,
    attention_tasks: usize,
}

/// The pass's buffers as shared views.
struct Views {
    x: Shared,
    xt: Shared,
    qkv: Shared,
    ctxt: Shared,
    attn: Shared,
    attnt: Shared,
    up: Shared,
    upt: Shared,
}

impl Plan<'_> {
    fn tasks(&self, step: Step) -> usize {
        match step {
            Step::Norm1 | Step::Norm2 => self.row_tasks,
            Step::Attention => self.attention_tasks,
            Step::Qkv | Step::Out | Step::Up | Step::Down => self.col_tasks,
        }
    }

    /// The rows of row task `t`: whole transposed blocks.
    fn rows(&self, t: usize) -> Range<usize> {
        let blocks = part(self.m.div_ceil(self.mr), self.row_tasks, t);
        blocks.start * self.mr..self.m.min(blocks.end * self.mr)
    }

    /// Column task `t` of `layer`: panels `part` of it, written into `dst` (`[m, n]`).
    ///
    /// # Safety
    /// `dst` must be the `[m, layer.n()]` output of this phase, `xt` written by an earlier phase; other tasks of
    /// the phase own the other panels.
    unsafe fn linear(
        &self,
        layer: &PackedLinear,
        xt: Shared,
        dst: Shared,
        t: usize,
    ) -> Range<usize> {
        let panels = part(layer.panel_count(), self.col_tasks, t);
        // SAFETY: `xt` was written by an earlier phase and nothing writes it in this one.
        let xt = unsafe { xt.slice(0..self.m * layer.k()) };
        assert!(dst.len >= self.m * layer.n(), "output in bounds");
        // SAFETY: `dst` holds at least `m * n` floats (asserted); the columns of `panels` belong to this task only
        // in this phase, and no task of this phase reads `dst`.
        let ok = unsafe { layer.forward_panels(xt, self.m, panels.clone(), dst.ptr) };
        debug_assert!(ok, "operand sizes checked by forward_team");
        layer.panel_columns(panels)
    }

    /// Layer norm of row task `t`: `x = layer_norm(x + residual)` on its rows, then the rows in transposed layout
    /// into `xt`.
    ///
    /// # Safety
    /// The rows of task `t` of `x` and `xt` belong to this task in this phase; `residual` was written earlier.
    unsafe fn norm(
        &self,
        x: Shared,
        xt: Shared,
        residual: Option<Shared>,
        ln: &super::Norm,
        t: usize,
    ) {
        let h = self.bert.hidden;
        let rows = self.rows(t);
        let range = rows.start * h..rows.end * h;
        // SAFETY: rows of this task (contract).
        let x = unsafe { x.slice_mut(range.clone()) };
        // SAFETY: written by an earlier phase, not written in this one.
        let r = residual.as_ref().map(|r| unsafe { r.slice(range.clone()) });
        kernels::add_layer_norm_rows(x, r.unwrap_or(&[]), &ln.gamma, &ln.beta, self.bert.eps);
        // SAFETY: the rows are whole transposed blocks, which occupy exactly `range` in the transposed layout.
        let xt = unsafe { xt.slice_mut(range.clone()) };
        for (i, row) in x.chunks_exact(h).enumerate() {
            let r = rows.start + i;
            for (c, &v) in row.iter().enumerate() {
                xt[packed::transposed_index(self.m, h, self.mr, r, c) - range.start] = v;
            }
        }
    }

    /// The embedding step, row task `t`: word + position embeddings and their layer norm.
    ///
    /// # Safety
    /// The rows of task `t` of `x` and `xt` belong to this task.
    unsafe fn embed(&self, v: &Views, t: usize) {
        let h = self.bert.hidden;
        let rows = self.rows(t);
        for &(start, len) in self.seqs {
            let (a, b) = (rows.start.max(start), rows.end.min(start + len));
            if a >= b {
                continue;
            }
            // SAFETY: rows `a..b` are within this task's rows (contract).
            let dst = unsafe { v.x.slice_mut(a * h..b * h) };
            kernels::gather_rows(
                &self.ids[a..b],
                &self.bert.words,
                &self.bert.positions[(a - start) * h..],
                h,
                dst,
            );
        }
        // SAFETY: as above.
        unsafe { self.norm(v.x, v.xt, None, &self.bert.embed_norm, t) }
    }

    /// Attention task `t`: its (sequence, head) pairs, written into `ctxt`.
    ///
    /// # Safety
    /// `qkv` was written by an earlier phase; the `ctxt` elements of this task's heads and sequences are its own.
    unsafe fn attention(&self, v: &Views, t: usize) {
        let shape = self.bert.shape;
        let (h, d) = (self.bert.hidden, shape.head_dim);
        let stride = 3 * h;
        let mut scratch = Vec::new();
        let mut out = Vec::new();
        for pair in part(self.seqs.len() * shape.heads, self.attention_tasks, t) {
            let (s, head) = (pair / shape.heads, pair % shape.heads);
            let (start, len) = self.seqs[s];
            // SAFETY: written by the query/key/value phase.
            let qkv = unsafe { v.qkv.slice(start * stride..(start + len) * stride) };
            out.clear();
            out.resize(len * d, 0.0);
            kernels::attention_head(qkv, head, shape, &mut scratch, &mut out);
            for (i, row) in out.chunks_exact(d).enumerate() {
                for (j, &value) in row.iter().enumerate() {
                    let at = packed::transposed_index(self.m, h, self.mr, start + i, head * d + j);
                    // SAFETY: element (row of sequence `s`, column of `head`): this task's own (contract).
                    unsafe { v.ctxt.write(at, value) };
                }
            }
        }
    }

    /// GELU of the columns `cols` of `up` (`[m, intermediate]`), in place and into `upt` in the transposed block
    /// layout, one block of rows at a time: the columns of one block are a contiguous range there.
    ///
    /// # Safety
    /// The columns `cols` of `up` and `upt` (every row) belong to this task in this phase.
    unsafe fn gelu_transposed(&self, v: &Views, cols: Range<usize>) {
        let (i, m) = (self.bert.intermediate, self.m);
        let mut r0 = 0;
        while r0 < m {
            let rows = self.mr.min(m - r0);
            let base = r0 * i;
            // SAFETY: in the transposed layout, columns `cols` of the block starting at row `r0` are exactly this
            // range, owned by this task (contract).
            let dst = unsafe {
                v.upt
                    .slice_mut(base + cols.start * rows..base + cols.end * rows)
            };
            for r in 0..rows {
                let at = (r0 + r) * i;
                // SAFETY: this task's columns of row `r0 + r` (contract).
                let src = unsafe { v.up.slice_mut(at + cols.start..at + cols.end) };
                kernels::gelu_slice(src);
                for (j, &value) in src.iter().enumerate() {
                    dst[j * rows + r] = value;
                }
            }
            r0 += rows;
        }
    }

    /// Runs task `t` of `step` of `layer`.
    ///
    /// # Safety
    /// Called by `team::run` in phase order, each (step, task) once.
    unsafe fn step(&self, v: &Views, layer: &Layer, step: Step, t: usize) {
        // SAFETY (all arms): the regions follow the table on `Step`; `team::run` runs every phase after the
        // earlier ones completed.
        unsafe {
            match step {
                Step::Qkv => {
                    self.linear(&layer.qkv, v.xt, v.qkv, t);
                }
                Step::Attention => self.attention(v, t),
                Step::Out => {
                    self.linear(&layer.attn_out, v.ctxt, v.attn, t);
                }
                Step::Norm1 => self.norm(v.attn, v.attnt, Some(v.x), &layer.attn_norm, t),
                Step::Up => {
                    let cols = self.linear(&layer.up, v.attnt, v.up, t);
                    self.gelu_transposed(v, cols);
                }
                Step::Down => {
                    self.linear(&layer.down, v.upt, v.x, t);
                }
                Step::Norm2 => self.norm(v.x, v.xt, Some(v.attn), &layer.out_norm, t),
            }
        }
    }
}

impl Bert {
    /// Whether [`Bert::forward_team`] runs a pass of `tokens` tokens (the packed kernel's range).
    pub(super) fn team_pass_fits(tokens: usize) -> bool {
        tokens > 0 && packed::uses_packed_kernel(tokens)
    }

    /// The forward pass as one team pass; `seqs` must cover `ids` (checked by the caller) and the pass must fit
    /// ([`Bert::team_pass_fits`]).
    pub(super) fn forward_team(
        &self,
        ids: &[u32],
        seqs: &[(usize, usize)],
    ) -> candle_core::Result<Vec<Vec<f32>>> {
        let m = ids.len();
        let vocab = self.words.len() / self.hidden.max(1);
        if seqs.iter().any(|&(_, len)| len > self.max_positions) {
            candle_core::bail!(
                "memlane-embed: a sequence is longer than the {} positions of the model",
                self.max_positions
            );
        }
        if let Some(&bad) = ids.iter().find(|&&id| id as usize >= vocab) {
            candle_core::bail!("memlane-embed: token id {bad} is outside the vocabulary");
        }
        let (h, i) = (self.hidden, self.intermediate);
        let shapes_fit = self.layers.iter().all(|l| {
            [
                (&l.qkv, h, 3 * h),
                (&l.attn_out, h, h),
                (&l.up, h, i),
                (&l.down, i, h),
            ]
            .iter()
            .all(|(lin, k, n)| (lin.k(), lin.n()) == (*k, *n))
        });
        if !shapes_fit {
            candle_core::bail!("memlane-embed: layer shapes do not match the hidden sizes");
        }
        let mut buffers = self.take_buffers(m);
        let b = &mut buffers;
        let views = Views {
            x: Shared::new(&mut b.x),
            xt: Shared::new(&mut b.xt),
            qkv: Shared::new(&mut b.qkv),
            ctxt: Shared::new(&mut b.ctxt),
            attn: Shared::new(&mut b.attn),
            attnt: Shared::new(&mut b.attnt),
            up: Shared::new(&mut b.up),
            upt: Shared::new(&mut b.upt),
        };
        let threads = rayon::current_num_threads().max(1);
        let mr = packed::block_rows();
        let plan = Plan {
            bert: self,
            ids,
            seqs,
            m,
            mr,
            row_tasks: threads.min(m.div_ceil(mr)),
            col_tasks: threads * TASKS_PER_THREAD,
            attention_tasks: (threads * TASKS_PER_THREAD).min(seqs.len() * self.shape.heads),
        };
        let mut phases = vec![plan.row_tasks];
        for _ in &self.layers {
            phases.extend(STEPS.iter().map(|&s| plan.tasks(s)));
        }
        team::run(&phases, |p, t| {
            // SAFETY: `team::run` calls every (phase, task) once, phases in order.
            unsafe {
                if p == 0 {
                    plan.embed(&views, t);
                } else {
                    let (layer, step) = ((p - 1) / STEPS.len(), STEPS[(p - 1) % STEPS.len()]);
                    plan.step(&views, &self.layers[layer], step, t);
                }
            }
        });
        let out = kernels::mean_pool_normalize(&buffers.x[..m * self.hidden], seqs, self.hidden);
        self.put_buffers(buffers);
        Ok(out)
    }
}
