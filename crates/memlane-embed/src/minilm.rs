//! [`MiniLm`]: all-MiniLM-L6-v2 loaded from a local directory, implementing [`Embedder`].

use std::fmt;
use std::path::{Path, PathBuf};

use candle_transformers::models::bert::Config;
use memlane_core::{Embedder, Error, Result};
use sha2::{Digest, Sha256};
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::bert::Bert;
use crate::fetch::FETCH_COMMAND;

/// The model's name, recorded with every vector it makes.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";

/// The length of its vectors.
pub const DIMENSION: usize = 384;

/// Texts are truncated to this many tokens (with `[CLS]` and `[SEP]`), as sentence-transformers does for this
/// model (`max_seq_length`).
pub const MAX_TOKENS: usize = 256;

/// The SHA-256 of the `model.safetensors` that [`MiniLm::load`] accepts.
pub const MODEL_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";

/// The environment variable naming the model directory.
pub const MODEL_DIR_ENV: &str = "MEMLANE_MODEL_DIR";

/// The files [`MiniLm::load`] reads from the model directory.
pub const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Tokens per forward pass: a larger batch is split into chunks of whole texts of at most this many tokens. This
/// bounds the scratch memory (15 KiB per token: at most about 31 MiB per concurrent call, kept for reuse) without
/// hurting matrix-product efficiency, which is flat beyond a few hundred rows.
const MAX_BATCH_TOKENS: usize = 2048;

const BACKEND: &str = "embed";

/// Where the model lives: `$MEMLANE_MODEL_DIR` if set (and not empty), else
/// `~/.cache/memlane/models/all-MiniLM-L6-v2`.
pub fn default_model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(MODEL_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/memlane/models").join(MODEL_NAME)
}

/// all-MiniLM-L6-v2 (a 6-layer, 384-wide BERT), run in process on the CPU: WordPiece tokens truncated to
/// [`MAX_TOKENS`], the encoder, mean pooling over the tokens and L2 normalization, matching sentence-transformers'
/// vectors (cosine similarity above 0.9999).
///
/// Batches are packed without padding (see the crate docs). `embed` uses all cores through rayon; set
/// `RAYON_NUM_THREADS` to limit it. A `MiniLm` is `Send + Sync`: share one (about 110 MB of weights) behind an
/// `Arc`. It keeps up to two scratch workspaces (15 KiB per token of the largest call, at most about 31 MiB each)
/// for reuse by later calls.
///
/// ```no_run
/// use memlane_core::Embedder;
/// let model = memlane_embed::MiniLm::load_default()?;
/// let vectors = model.embed(&["The user prefers dark mode.", "Paris is the capital of France."])?;
/// assert_eq!(vectors[0].len(), 384);
/// # Ok::<(), memlane_core::Error>(())
/// ```
pub struct MiniLm {
    dir: PathBuf,
    tokenizer: Tokenizer,
    bert: Bert,
}

fn missing(dir: &Path, what: &str) -> Error {
    Error::unavailable(
        BACKEND,
        format!(
            "the {MODEL_NAME} model is not installed in {} ({what}); fetch it with `{FETCH_COMMAND} {}` (or \
             `memlane model fetch`), or point {MODEL_DIR_ENV} at a directory that holds it",
            dir.display(),
            dir.display()
        ),
        None,
    )
}

fn corrupt(dir: &Path, what: String, source: Option<memlane_core::BoxError>) -> Error {
    Error::internal(
        BACKEND,
        format!(
            "the {MODEL_NAME} model in {} is damaged or not the expected one: {what}; fetch it again with \
             `{FETCH_COMMAND} {}`",
            dir.display(),
            dir.display()
        ),
        source,
    )
}

/// The file, beside the weights, that records which weights were already checked against [`MODEL_SHA256`], so
/// that loading the model again (every CLI command) skips hashing 87 MiB.
const VERIFIED_MARKER: &str = ".memlane-verified";

/// What identifies the weights file on disk without reading it: size, modification time and the expected digest.
/// A file replaced or rewritten changes its size or modification time and is hashed again.
fn weights_stamp(dir: &Path) -> Option<String> {
    let meta = std::fs::metadata(dir.join("model.safetensors")).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!(
        "{} {} {MODEL_SHA256}",
        meta.len(),
        mtime.as_nanos()
    ))
}

fn read_verified_marker(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(VERIFIED_MARKER)).ok()
}

fn model_error(e: candle_core::Error) -> Error {
    Error::internal(
        BACKEND,
        format!("{MODEL_NAME} inference failed: {e}"),
        Some(Box::new(e)),
    )
}

impl MiniLm {
    /// Loads the model from `dir`, which must hold `config.json`, `tokenizer.json` and `model.safetensors` (as
    /// `scripts/fetch-model.sh` leaves them), and checks `model.safetensors` against [`MODEL_SHA256`]. A check that
    /// passed is remembered in `DIR/.memlane-verified` (size and modification time of the weights), so later loads
    /// of the same unchanged file skip the hashing.
    ///
    /// Errors: [`memlane_core::ErrorKind::Unavailable`] when the directory or a file is missing (the message names
    /// the fetch command); [`memlane_core::ErrorKind::Internal`] when a file is damaged or not this model.
    pub fn load(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(missing(dir, "no such directory"));
        }
        for file in MODEL_FILES {
            if !dir.join(file).is_file() {
                return Err(missing(dir, &format!("{file} is missing")));
            }
        }
        let read = |file: &str| {
            std::fs::read(dir.join(file)).map_err(|e| {
                Error::unavailable(
                    BACKEND,
                    format!("cannot read {}: {e}", dir.join(file).display()),
                    Some(Box::new(e)),
                )
            })
        };

        let weights = read("model.safetensors")?;
        let stamp = weights_stamp(dir);
        if stamp.is_none() || stamp != read_verified_marker(dir) {
            let digest = Sha256::digest(&weights);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            if hex != MODEL_SHA256 {
                return Err(corrupt(
                    dir,
                    format!("model.safetensors has sha256 {hex}, expected {MODEL_SHA256}"),
                    None,
                ));
            }
            if let Some(stamp) = stamp {
                // Best effort: a read-only directory just means hashing again next time.
                let _ = std::fs::write(dir.join(VERIFIED_MARKER), stamp);
            }
        }

        let config: Config = serde_json::from_slice(&read("config.json")?)
            .map_err(|e| corrupt(dir, format!("config.json: {e}"), Some(Box::new(e))))?;
        Bert::check_config(&config).map_err(|e| corrupt(dir, format!("config.json: {e}"), None))?;
        if config.hidden_size != DIMENSION {
            return Err(corrupt(
                dir,
                format!(
                    "config.json: hidden_size {} is not {DIMENSION}",
                    config.hidden_size
                ),
                None,
            ));
        }

        let mut tokenizer = Tokenizer::from_bytes(read("tokenizer.json")?)
            .map_err(|e| corrupt(dir, format!("tokenizer.json: {e}"), Some(e)))?;
        // The shipped tokenizer.json pads every input to 128 tokens and truncates at 128: no padding at all here
        // (batches are packed), and sentence-transformers' truncation length.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: MAX_TOKENS.min(config.max_position_embeddings),
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| corrupt(dir, format!("tokenizer.json: {e}"), Some(e)))?;

        let bert = Bert::load(weights, &config)
            .map_err(|e| corrupt(dir, format!("model.safetensors: {e}"), Some(Box::new(e))))?;
        if bert.hidden() != DIMENSION || bert.max_positions() < MAX_TOKENS {
            return Err(corrupt(dir, "unexpected model shape".into(), None));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            tokenizer,
            bert,
        })
    }

    /// Loads the model from [`default_model_dir`].
    pub fn load_default() -> Result<Self> {
        Self::load(&default_model_dir())
    }

    /// The directory the model was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The number of tokens `text` becomes, `[CLS]` and `[SEP]` included, after truncation to [`MAX_TOKENS`].
    pub fn token_count(&self, text: &str) -> Result<usize> {
        Ok(self.tokenize(&[text])?.first().map_or(0, Vec::len))
    }

    /// One L2-normalized vector for one text; [`Embedder::embed`] for a batch.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>> {
        self.embed(&[text])?
            .pop()
            .ok_or_else(|| Error::internal(BACKEND, "no vector for the text", None))
    }

    fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        let failed = |e| Error::internal(BACKEND, format!("tokenizing failed: {e}"), Some(e));
        // One text: no hand-off to the thread pool (it costs more than tokenizing a short text).
        if let [text] = texts {
            let encoding = self.tokenizer.encode_fast(*text, true).map_err(failed)?;
            return Ok(vec![encoding.get_ids().to_vec()]);
        }
        let encodings = self
            .tokenizer
            .encode_batch_fast(texts.to_vec(), true)
            .map_err(failed)?;
        Ok(encodings
            .into_iter()
            .map(|e| e.get_ids().to_vec())
            .collect())
    }
}

impl Embedder for MiniLm {
    fn model(&self) -> &str {
        MODEL_NAME
    }

    fn dimension(&self) -> usize {
        DIMENSION
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let tokens = self.tokenize(texts)?;
        let mut out = Vec::with_capacity(texts.len());
        let mut ids: Vec<u32> = Vec::new();
        let mut seqs: Vec<(usize, usize)> = Vec::new();
        for t in &tokens {
            if !ids.is_empty() && ids.len() + t.len() > MAX_BATCH_TOKENS {
                out.extend(self.bert.forward(&ids, &seqs).map_err(model_error)?);
                ids.clear();
                seqs.clear();
            }
            seqs.push((ids.len(), t.len()));
            ids.extend_from_slice(t);
        }
        out.extend(self.bert.forward(&ids, &seqs).map_err(model_error)?);
        if out.len() != texts.len() {
            return Err(Error::internal(BACKEND, "vector count mismatch", None));
        }
        Ok(out)
    }
}

impl fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MiniLm")
            .field("model", &MODEL_NAME)
            .field("dimension", &DIMENSION)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}
