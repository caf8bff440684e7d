//! The text pipeline: vocabulary building and files, TSV parsing errors, padding, and
//! SST-2 from the data folder (skipped with a printed reason when `NABLA_DATA` is unset).

use std::fs;
use std::path::PathBuf;

use nabla_data::{
    pad_truncate, read_tsv, sequence_lengths, tokenize, DataError, Dataset, LabeledText, Sst2, TextDataset, TsvFormat,
    Vocab,
};

fn temp_file(tag: &str, contents: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("nabla-data-text-{tag}-{}", std::process::id()));
    fs::write(&path, contents).unwrap();
    path
}

fn parse_line(result: Result<impl std::fmt::Debug, DataError>) -> (usize, String) {
    match result {
        Err(DataError::Parse { line, reason, .. }) => (line, reason),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn vocab_ranks_by_frequency_then_alphabetically_and_respects_limits() {
    let corpus = ["b a c", "a b", "a d e", "e"];
    let full = Vocab::build(corpus.iter().map(|s| tokenize(s)), 100, 1);
    let order: Vec<&str> = (0..full.len() as i64).map(|i| full.token(i).unwrap()).collect();
    assert_eq!(order, ["<pad>", "<unk>", "a", "b", "e", "c", "d"]);

    let frequent = Vocab::build(corpus.iter().map(|s| tokenize(s)), 100, 2);
    assert_eq!(frequent.len(), 5);
    assert_eq!(frequent.id("c"), Vocab::UNK);

    let capped = Vocab::build(corpus.iter().map(|s| tokenize(s)), 3, 1);
    assert_eq!(capped.len(), 3);
    assert_eq!(capped.encode(&["a", "b", "<pad>"]), vec![2, Vocab::UNK, Vocab::PAD]);
    assert_eq!(capped.token(3), None);
    assert_eq!(capped.token(-1), None);
}

#[test]
fn a_corpus_token_spelled_like_a_special_does_not_get_a_second_id() {
    let vocab = Vocab::build([vec!["<unk>", "<unk>", "x"]], 10, 1);
    assert_eq!(vocab.len(), 3);
    assert_eq!(vocab.id("<unk>"), Vocab::UNK);
}

#[test]
fn vocab_round_trips_through_a_file_and_rejects_bad_files() {
    let vocab = Vocab::build([tokenize("the cat sat on the mat .")], 50, 1);
    let path = temp_file("vocab", "");
    vocab.save(&path).unwrap();
    assert_eq!(Vocab::load(&path).unwrap(), vocab);

    let cases = [
        ("not a vocab\n<pad>\n<unk>\n", 1, "first line"),
        ("nabla-vocab 1\n<unk>\n<pad>\n", 2, "<pad>"),
        ("nabla-vocab 1\n<pad>\n", 3, "<unk>"),
        ("nabla-vocab 1\n<pad>\n<unk>\nx\n\n", 5, "empty"),
        ("nabla-vocab 1\n<pad>\n<unk>\nx\ny\nx\n", 6, "repeats line 4"),
    ];
    for (text, line, reason) in cases {
        let bad = temp_file("bad-vocab", text);
        let (found_line, found_reason) = parse_line(Vocab::load(&bad));
        assert_eq!(found_line, line, "{text:?}");
        assert!(found_reason.contains(reason), "{text:?}: {found_reason}");
    }
    let unsaveable = Vocab::build([vec!["two\nlines"]], 10, 1);
    assert!(matches!(unsaveable.save(&path), Err(DataError::InvalidConfig { .. })));
    assert!(matches!(Vocab::load("/nonexistent/vocab.txt"), Err(DataError::Io { .. })));
}

#[test]
fn read_tsv_names_the_line_of_a_missing_column_or_a_bad_label() {
    let good = temp_file("good", "label\ttext\n1\tfine\n\n0\tbad , really\n");
    let rows = read_tsv(&good, &TsvFormat::default()).unwrap();
    assert_eq!(
        rows,
        [LabeledText { label: 1, text: "fine".into() }, LabeledText { label: 0, text: "bad , really".into() }]
    );
    let headless = TsvFormat { header: false, ..TsvFormat::default() };
    let (line, reason) = parse_line(read_tsv(&good, &headless));
    assert_eq!(line, 1);
    assert!(reason.contains("\"label\" is not an integer"), "{reason}");

    let short = temp_file("short", "label\ttext\n1\tok\n0 no tab here\n");
    let (line, reason) = parse_line(read_tsv(&short, &TsvFormat::default()));
    assert_eq!(line, 3);
    assert!(reason.contains("1 tab-separated columns, expected at least 2"), "{reason}");
    let message = read_tsv(&short, &TsvFormat::default()).unwrap_err().to_string();
    assert!(message.contains(":3: "), "{message}");
}

#[test]
fn text_dataset_pads_at_the_end_truncates_and_keeps_empty_texts_one_step_long() {
    let rows = vec![
        LabeledText { label: 1, text: "one two three four five".into() },
        LabeledText { label: 0, text: "two".into() },
        LabeledText { label: 1, text: " ... ".into() },
        LabeledText { label: 0, text: "".into() },
    ];
    let vocab = Vocab::build(rows.iter().map(|r| tokenize(&r.text)), 100, 1);
    let data = TextDataset::new(&rows, &vocab, 4);
    assert_eq!(data.len(), 4);
    let (x, y) = data.get_batch(&[0, 1, 2, 3]);
    assert_eq!(y.to_vec::<i64>(), vec![1, 0, 1, 0]);
    let ids = x.to_vec::<i64>();
    assert_eq!(ids[..4], vocab.encode(&["one", "two", "three", "four"])[..]);
    assert_eq!(ids[4..8], [vocab.id("two"), 0, 0, 0]);
    assert_eq!(ids[12..], [Vocab::UNK, 0, 0, 0]);
    assert_eq!(sequence_lengths(&x), vec![4, 1, 3, 1]);
    assert_eq!(pad_truncate(&[], 2), vec![0, 0]);
}

#[test]
fn sst2_splits_have_their_documented_sizes_and_binary_labels() {
    let Some(root) = std::env::var_os("NABLA_DATA").map(PathBuf::from) else {
        println!("skipping sst2 test: NABLA_DATA is not set (point it at the data folder holding sst2/)");
        return;
    };
    let train = Sst2::read(&root, "train").unwrap();
    let dev = Sst2::read(&root, "dev").unwrap();
    assert_eq!((train.len(), dev.len()), (67_349, 872));
    let positive = dev.iter().filter(|r| r.label == 1).count();
    assert!((400..=500).contains(&positive), "{positive} positive dev sentences");
    let vocab = Vocab::build(train.iter().map(|r| tokenize(&r.text)), 10_000, 1);
    assert_eq!(vocab.len(), 10_000);
    let unknown = dev.iter().flat_map(|r| vocab.encode_text(&r.text)).filter(|&id| id == Vocab::UNK).count();
    assert!(unknown > 0, "a 10k vocabulary of the training set should miss some dev tokens");
    assert!(matches!(Sst2::read(&root, "nope"), Err(DataError::NotFound { .. })));
}
