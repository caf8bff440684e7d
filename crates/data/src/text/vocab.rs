//! `Vocab`: the token <-> id table of a text data set.

use std::collections::HashMap;
use std::path::Path;

use crate::error::DataError;
use crate::text::tokenize;

/// The first line of a saved vocabulary, so that loading some other text file fails.
const HEADER: &str = "nabla-vocab 1";

/// A vocabulary: id 0 is padding (`<pad>`), id 1 the unknown token (`<unk>`), then the
/// corpus' tokens from the most to the least frequent.
///
/// Ties in frequency are broken alphabetically, so the same corpus always gives the
/// same ids. The size limit counts the two special tokens, as Keras' `num_words` counts
/// index 0: `max_size = 10000` keeps the 9998 most frequent tokens.
///
/// ```
/// use nabla_data::{tokenize, Vocab};
/// let corpus = ["a good film", "a bad film", "good good"];
/// let vocab = Vocab::build(corpus.iter().map(|s| tokenize(s)), 4, 1);
/// assert_eq!(vocab.len(), 4); // <pad>, <unk>, "good" (3 times), "a" (2, before "film")
/// assert_eq!(vocab.encode(&tokenize("good film")), vec![2, Vocab::UNK]);
/// assert_eq!(vocab.token(3), Some("a"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Vocab {
    tokens: Vec<String>,
    ids: HashMap<String, i64>,
}

impl Vocab {
    /// The id of padding, `<pad>`.
    pub const PAD: i64 = 0;
    /// The id of every token not in the vocabulary, `<unk>`.
    pub const UNK: i64 = 1;
    const SPECIALS: [&'static str; 2] = ["<pad>", "<unk>"];

    /// Builds the vocabulary of `corpus` (one token sequence per document): the
    /// `max_size - 2` most frequent tokens seen at least `min_freq` times.
    ///
    /// # Panics
    /// If `max_size < 2` (there must be room for `<pad>` and `<unk>`).
    pub fn build<D, S>(corpus: impl IntoIterator<Item = D>, max_size: usize, min_freq: usize) -> Vocab
    where
        D: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        assert!(max_size >= 2, "Vocab::build: max_size {max_size} leaves no room for <pad> and <unk>");
        let mut counts: HashMap<String, usize> = HashMap::new();
        for document in corpus {
            for token in document {
                *counts.entry(token.as_ref().to_owned()).or_default() += 1;
            }
        }
        let mut ranked: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|(token, n)| *n >= min_freq.max(1) && !Self::SPECIALS.contains(&token.as_str()))
            .collect();
        ranked.sort_unstable_by(|(ta, na), (tb, nb)| nb.cmp(na).then_with(|| ta.cmp(tb)));
        ranked.truncate(max_size - 2);
        Self::from_tokens(Self::SPECIALS.iter().map(|s| s.to_string()).chain(ranked.into_iter().map(|(t, _)| t)))
    }

    fn from_tokens(tokens: impl IntoIterator<Item = String>) -> Vocab {
        let tokens: Vec<String> = tokens.into_iter().collect();
        let ids = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as i64)).collect();
        Vocab { tokens, ids }
    }

    /// The number of ids, the two special tokens included.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Always false: a vocabulary holds at least `<pad>` and `<unk>`.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The id of `token`, [`Vocab::UNK`] if it is not in the vocabulary.
    pub fn id(&self, token: &str) -> i64 {
        self.ids.get(token).copied().unwrap_or(Self::UNK)
    }

    /// The token with id `id`, if there is one.
    pub fn token(&self, id: i64) -> Option<&str> {
        usize::try_from(id).ok().and_then(|i| self.tokens.get(i)).map(String::as_str)
    }

    /// The ids of `tokens`.
    pub fn encode<S: AsRef<str>>(&self, tokens: &[S]) -> Vec<i64> {
        tokens.iter().map(|t| self.id(t.as_ref())).collect()
    }

    /// Writes the vocabulary to `path`: a header line, then one token per line in id order.
    ///
    /// # Errors
    /// [`DataError::InvalidConfig`] if a token contains a line break (it could not be read
    /// back), [`DataError::Io`] if writing fails.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), DataError> {
        let path = path.as_ref();
        if let Some(bad) = self.tokens.iter().find(|t| t.contains(['\n', '\r'])) {
            return Err(DataError::config("Vocab::save", format!("token {bad:?} contains a line break")));
        }
        let mut text = String::from(HEADER);
        for token in &self.tokens {
            text.push('\n');
            text.push_str(token);
        }
        text.push('\n');
        std::fs::write(path, text).map_err(|e| DataError::io(path, e))
    }

    /// Reads a vocabulary written by [`Vocab::save`].
    ///
    /// # Errors
    /// [`DataError::Io`] if reading fails; [`DataError::Parse`] naming the line if the
    /// header, the special tokens, an empty or a repeated token is wrong.
    pub fn load(path: impl AsRef<Path>) -> Result<Vocab, DataError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        let parse_error = |line: usize, reason: String| DataError::Parse { path: path.to_path_buf(), line, reason };
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(parse_error(1, format!("not a vocabulary file (the first line must be {HEADER:?})")));
        }
        let tokens: Vec<String> = lines.map(str::to_owned).collect();
        for (i, special) in Self::SPECIALS.iter().enumerate() {
            if tokens.get(i).map(String::as_str) != Some(*special) {
                return Err(parse_error(i + 2, format!("id {i} must be {special:?}")));
            }
        }
        let mut seen = HashMap::new();
        for (i, token) in tokens.iter().enumerate() {
            if token.is_empty() {
                return Err(parse_error(i + 2, "empty token".into()));
            }
            if let Some(first) = seen.insert(token.as_str(), i) {
                return Err(parse_error(i + 2, format!("token {token:?} repeats line {}", first + 2)));
            }
        }
        Ok(Self::from_tokens(tokens))
    }

    /// Tokenizes `text` with [`tokenize`] and encodes it.
    pub fn encode_text(&self, text: &str) -> Vec<i64> {
        self.encode(&tokenize(text))
    }
}
