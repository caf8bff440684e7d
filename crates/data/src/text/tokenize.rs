//! The tokenizer: lower-case, split at whitespace, punctuation as tokens of its own.

/// Splits `text` into lower-case tokens: runs of letters, digits and apostrophes, and
/// every other non-space character as a token of its own.
///
/// Apostrophes stay inside words so that clitics survive (`"don't"`, and the `"'s"`,
/// `"'ve"` of pre-tokenized corpora such as SST-2); everything else that is neither
/// alphanumeric nor whitespace (`.`, `,`, `!`, `(`, `-`, ...) is split off, like
/// torchtext's `basic_english` and Keras' `Tokenizer` lower-casing.
///
/// ```
/// use nabla_data::tokenize;
/// assert_eq!(tokenize("It's GREAT, isn't it?!"), ["it's", "great", ",", "isn't", "it", "?", "!"]);
/// assert_eq!(tokenize("moore 's film"), ["moore", "'s", "film"]);
/// ```
pub fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || c == '\'' {
            word.extend(c.to_lowercase());
            continue;
        }
        if !word.is_empty() {
            tokens.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            tokens.push(c.to_lowercase().collect());
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::tokenize;

    #[test]
    fn splits_whitespace_and_punctuation_and_lowercases() {
        assert_eq!(tokenize("  Hello,\tWORLD.\n"), ["hello", ",", "world", "."]);
        assert_eq!(tokenize("a--b (c)"), ["a", "-", "-", "b", "(", "c", ")"]);
        assert_eq!(tokenize("Crème BRÛLÉE"), ["crème", "brûlée"]);
        assert!(tokenize(" \t ").is_empty());
    }
}
