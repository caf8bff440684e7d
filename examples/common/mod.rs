//! What every training example shares: the command-line flags of DESIGN.md section 9,
//! the data directory default, a warning for unoptimised builds, and the classification
//! training loop ([`fit`]).

pub mod fit;

use std::path::PathBuf;

/// The flags every training example accepts (each example picks its defaults).
#[derive(Clone, Debug)]
pub struct Args {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
    pub threads: Option<usize>,
    pub data: PathBuf,
    pub limit: Option<usize>,
    pub save: Option<PathBuf>,
    /// The example-specific on/off flags given, e.g. `--batchnorm`.
    pub switches: Vec<String>,
}

impl Args {
    /// An example's defaults: seed 0, all threads, `default_data_dir()`, no limit, no save.
    pub fn defaults(epochs: usize, batch_size: usize, lr: f64) -> Args {
        Args {
            epochs,
            batch_size,
            lr,
            seed: 0,
            threads: None,
            data: default_data_dir(),
            limit: None,
            save: None,
            switches: Vec::new(),
        }
    }

    /// True if the on/off flag `name` (e.g. `"--batchnorm"`) was given.
    pub fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    /// Parses `std::env::args()` over the given defaults, accepting the example's own
    /// on/off `switches` too; `--help` prints the flags.
    pub fn parse(name: &str, defaults: Args, switches: &[&str]) -> Args {
        let mut args = defaults;
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            if flag == "--help" || flag == "-h" {
                println!(
                    "{name} [--epochs N] [--batch-size N] [--lr F] [--seed N] [--threads N] [--data DIR] [--limit N] \
                     [--save PATH] {}\n  defaults: {args:?}\n  --data defaults to $NABLA_DATA, then ./data",
                    switches.join(" ")
                );
                std::process::exit(0);
            }
            if switches.contains(&flag.as_str()) {
                args.switches.push(flag);
                continue;
            }
            let value = it.next().unwrap_or_else(|| fail(&format!("{flag} needs a value")));
            let bad = |what: &str| -> ! { fail(&format!("{flag} expects {what}, got {value:?}")) };
            match flag.as_str() {
                "--epochs" => args.epochs = value.parse().unwrap_or_else(|_| bad("an integer")),
                "--batch-size" => args.batch_size = value.parse().unwrap_or_else(|_| bad("an integer")),
                "--lr" => args.lr = value.parse().unwrap_or_else(|_| bad("a number")),
                "--seed" => args.seed = value.parse().unwrap_or_else(|_| bad("an integer")),
                "--threads" => args.threads = Some(value.parse().unwrap_or_else(|_| bad("an integer"))),
                "--data" => args.data = PathBuf::from(value),
                "--limit" => args.limit = Some(value.parse().unwrap_or_else(|_| bad("an integer"))),
                "--save" => args.save = Some(PathBuf::from(value)),
                other => fail(&format!("unknown flag {other}; see --help")),
            }
        }
        if let Some(t) = args.threads {
            nabla::set_num_threads(t);
        }
        warn_if_unoptimised();
        args
    }
}

/// `$NABLA_DATA`, else `./data`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("NABLA_DATA").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("data"))
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2);
}

/// Training without optimisations is 10-50x slower; say so once instead of letting a
/// user think the framework is slow.
fn warn_if_unoptimised() {
    if cfg!(debug_assertions) {
        eprintln!("warning: this is an unoptimised (debug) build; training will be slow. Use `cargo run --release`.");
    }
}

/// Prints the process's peak resident memory (Linux), for the closing report.
pub fn print_peak_memory() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status.lines().find_map(|l| l.strip_prefix("VmHWM:")?.split_whitespace().next()?.parse::<f64>().ok());
    if let Some(kib) = kib {
        println!("peak memory: {:.0} MiB", kib / 1024.0);
    }
}

/// MNIST normalised with its mean and std: the training loader (first `--limit`
/// images, shuffled, `--batch-size`) and the test loader (batches of 64).
pub fn mnist_loaders(
    args: &Args,
) -> Result<(nabla::data::DataLoader<nabla::data::Mnist>, nabla::data::DataLoader<nabla::data::Mnist>), nabla::Error> {
    use nabla::data::{DataLoader, Mnist};
    let mut train = Mnist::train(&args.data)?.normalize(0.1307, 0.3081);
    if let Some(n) = args.limit {
        train = train.take(n);
    }
    let test = Mnist::test(&args.data)?.normalize(0.1307, 0.3081);
    Ok((DataLoader::new(train).batch_size(args.batch_size).shuffle(true), DataLoader::new(test).batch_size(64)))
}
