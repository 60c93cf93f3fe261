//! Text to terms: lowercase words, English stopwords marked, Snowball (Porter 2) English stems.
//!
//! A word is a maximal run of alphanumeric characters (Unicode), lowercased; words longer than
//! [`MAX_WORD_CHARS`] characters are dropped. Each word is stemmed with the Snowball English stemmer (so `painted`,
//! `painting` and `paints` are one term). Stopwords (a common English list: `the`, `did`, `what`, ...) are indexed,
//! but a query uses them only when it has nothing else, and they do not count in a memory's length.

use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};

/// Longer words are dropped (ids, base64 and the like).
pub(crate) const MAX_WORD_CHARS: usize = 64;

/// English stopwords (a common list, close to NLTK's): too common to say what a text is about.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "d",
    "did",
    "do",
    "does",
    "doing",
    "don",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "ll",
    "m",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "not",
    "now",
    "o",
    "of",
    "off",
    "on",
    "once",
    "or",
    "other",
    "ought",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "re",
    "s",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "t",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "ve",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "y",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

fn stemmer() -> &'static Stemmer {
    static S: OnceLock<Stemmer> = OnceLock::new();
    S.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// Whether a lowercased word is a stopword.
pub(crate) fn is_stopword(word: &str) -> bool {
    STOPWORDS.binary_search(&word).is_ok()
}

/// One term of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// The stem.
    pub(crate) term: String,
    /// Whether the word was a stopword.
    pub(crate) stop: bool,
}

/// The terms of `text`, in order.
pub(crate) fn tokens(text: &str) -> Vec<Token> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && w.chars().count() <= MAX_WORD_CHARS)
        .map(|w| {
            let lower = w.to_lowercase();
            let stop = is_stopword(&lower);
            Token {
                term: stemmer().stem(&lower).into_owned(),
                stop,
            }
        })
        .collect()
}

/// The distinct terms a query searches for, at most `max`: its non-stopwords, or all its words when every word is a
/// stopword.
pub(crate) fn query_terms(text: &str, max: usize) -> Vec<String> {
    let all = tokens(text);
    let content = all.iter().any(|t| !t.stop);
    let mut out: Vec<String> = Vec::new();
    for t in all {
        if (content && t.stop) || out.contains(&t.term) {
            continue;
        }
        out.push(t.term);
        if out.len() == max {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_are_sorted_for_binary_search() {
        let mut sorted = STOPWORDS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), STOPWORDS.len());
        assert!(sorted.iter().all(|w| is_stopword(w)));
    }

    #[test]
    fn words_are_lowercased_stemmed_and_marked() {
        let t = tokens("Caroline's PAINTING; she painted 3 lakes, café!");
        let terms: Vec<&str> = t.iter().map(|t| t.term.as_str()).collect();
        assert_eq!(
            terms,
            ["carolin", "s", "paint", "she", "paint", "3", "lake", "café"]
        );
        assert!(t[1].stop && t[3].stop && !t[2].stop);
    }

    #[test]
    fn queries_drop_stopwords_unless_nothing_else() {
        assert_eq!(
            query_terms("What did Melanie paint? paint!", 10),
            ["melani", "paint"]
        );
        assert_eq!(query_terms("The Who", 10), ["the", "who"]);
        assert!(query_terms("%_\\", 10).is_empty());
        assert_eq!(query_terms("a b c d", 2), ["b", "c"]);
    }
}
