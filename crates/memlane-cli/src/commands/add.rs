//! `memlane add CONTENT`: store a memory and print it.

use std::io::Read;

use memlane::{AddOptions, Error, NewMemory};

use super::{rename_field, Context};
use crate::cli::AddArgs;
use crate::error::{CliError, CliResult};

/// Adds the memory; prints it, noting `(existing)` when deduplication or a reused id returned a stored one.
pub async fn run(ctx: &mut Context, args: AddArgs) -> CliResult {
    let content = if args.content == "-" {
        read_stdin()?
    } else {
        args.content
    };
    if content.trim().is_empty() {
        return Err(
            Error::invalid("content", "must not be empty: give the text to remember").into(),
        );
    }
    let mut new = NewMemory::new(args.scope.scope(&ctx.tenant), content);
    new.id = args.id;
    new.kind = args.kind.unwrap_or_default();
    new.metadata = args.meta.unwrap_or_default();
    new.ttl = args.ttl;
    let opts = AddOptions {
        dedup: args.no_dedup.then_some(false),
    };
    let store = ctx.store().await?;
    let added = store
        .add(vec![new], opts)
        .await
        .map_err(|e| rename_field(e, "memories[0]."))?
        .pop()
        .ok_or_else(|| Error::internal(store.name().to_owned(), "add returned nothing", None))?;
    if !added.created && ctx.out.is_json() {
        eprintln!(
            "note: already stored; returning the existing memory {}",
            added.memory.id
        );
    }
    ctx.out.memory(&added.memory, !added.created)
}

/// The content from stdin, less one trailing newline.
fn read_stdin() -> CliResult<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| CliError::io("stdin", e))?;
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Ok(s)
}
