//! Reading labelled text from tab-separated files, and the SST-2 files.

use std::path::{Path, PathBuf};

use crate::error::DataError;

/// One labelled document of a text-classification set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabeledText {
    /// The class index.
    pub label: i64,
    /// The raw text, not yet tokenized.
    pub text: String,
}

/// Where the label and the text are in each line of a TSV file.
///
/// The default fits SST-2 and most GLUE-style files: label in column 0, text in
/// column 1, one header line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TsvFormat {
    /// The 0-based column of the integer label.
    pub label_column: usize,
    /// The 0-based column of the text.
    pub text_column: usize,
    /// Whether the first line is a header to skip.
    pub header: bool,
}

impl Default for TsvFormat {
    fn default() -> Self {
        TsvFormat { label_column: 0, text_column: 1, header: true }
    }
}

/// Reads every non-empty line of the TSV file at `path` as a [`LabeledText`].
///
/// ```
/// use nabla_data::{read_tsv, TsvFormat};
/// let path = std::env::temp_dir().join("nabla_read_tsv_doc.tsv");
/// std::fs::write(&path, "sentence\tlabel\ngreat fun\t1\n")?;
/// let format = TsvFormat { label_column: 1, text_column: 0, header: true };
/// let rows = read_tsv(&path, &format)?;
/// assert_eq!((rows[0].label, rows[0].text.as_str()), (1, "great fun"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`DataError::Io`] if the file cannot be read (or is not UTF-8); [`DataError::Parse`]
/// naming the line if it lacks a column or its label is not an integer.
pub fn read_tsv(path: impl AsRef<Path>, format: &TsvFormat) -> Result<Vec<LabeledText>, DataError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    let columns = format.label_column.max(format.text_column) + 1;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(usize::from(format.header)) {
        if line.trim().is_empty() {
            continue;
        }
        let parse_error = |reason: String| DataError::Parse { path: path.to_path_buf(), line: i + 1, reason };
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() < columns {
            return Err(parse_error(format!("{} tab-separated columns, expected at least {columns}", fields.len())));
        }
        let label = fields[format.label_column].trim();
        let label = label.parse().map_err(|_| parse_error(format!("label {label:?} is not an integer")))?;
        rows.push(LabeledText { label, text: fields[format.text_column].to_owned() });
    }
    Ok(rows)
}

/// The Stanford Sentiment Treebank, binary (SST-2 as in GLUE): label 0 (negative) or
/// 1 (positive) and a sentence per line.
///
/// The files `train.tsv`, `dev.tsv` and `test.tsv` are looked for in `<root>/sst2/`,
/// then `<root>/`; use [`Mnist::default_root`](crate::Mnist::default_root) for the
/// `NABLA_DATA` convention.
pub struct Sst2;

impl Sst2 {
    /// Reads split `split` (`"train"`, `"dev"` or `"test"`).
    ///
    /// # Errors
    /// [`DataError::NotFound`] listing the paths tried; the errors of [`read_tsv`]; and
    /// [`DataError::Parse`] for a label other than 0 or 1.
    pub fn read(root: impl AsRef<Path>, split: &str) -> Result<Vec<LabeledText>, DataError> {
        let root = root.as_ref();
        let file = format!("{split}.tsv");
        let searched: Vec<PathBuf> = vec![root.join("sst2").join(&file), root.join(&file)];
        let Some(path) = searched.iter().find(|p| p.is_file()) else {
            return Err(DataError::NotFound { file, searched });
        };
        let rows = read_tsv(path, &TsvFormat::default())?;
        if let Some((i, row)) = rows.iter().enumerate().find(|(_, r)| !(0..=1).contains(&r.label)) {
            let reason = format!("label {} of row {i} is not 0 or 1", row.label);
            return Err(DataError::Parse { path: path.clone(), line: 0, reason });
        }
        Ok(rows)
    }
}
