//! Real MNIST from the data folder (`NABLA_DATA`), and `Mnist::download_from` against a
//! loopback HTTP server started here. Tests that need the real files print a reason and
//! return when `NABLA_DATA` is unset.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;
use nabla_data::{DataError, Mnist};

const FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

fn data_folder(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("NABLA_DATA").map(PathBuf::from);
    if dir.is_none() {
        println!("skipping {test}: NABLA_DATA is not set (point it at the data folder holding mnist/)");
    }
    dir
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nabla-data-mnist-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A loopback HTTP/1.1 server: `GET /good/<file>` serves `files[file]`, `GET
/// /corrupt/<file>` a valid gzip of the wrong content, anything else 404. It answers at
/// most 64 requests and stops accepting after 60 s, so it can never outlive a test run.
struct Server {
    base: String,
    hits: Arc<AtomicUsize>,
}

impl Server {
    fn start(files: HashMap<String, Vec<u8>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while counter.load(Ordering::SeqCst) < 64 && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        counter.fetch_add(1, Ordering::SeqCst);
                        respond(stream, &files);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Server { base, hits }
    }

    fn url(&self, route: &str) -> String {
        format!("{}/{route}/", self.base)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn respond(mut stream: TcpStream, files: &HashMap<String, Vec<u8>>) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&request).lines().next().unwrap_or_default().to_string();
    let path = line.split_whitespace().nth(1).unwrap_or_default();
    let body = match path.strip_prefix("/good/") {
        Some(file) => files.get(file).cloned(),
        None => path.strip_prefix("/corrupt/").map(|_| gzip(b"these are not the bytes you are looking for")),
    };
    let head = match &body {
        Some(b) => format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", b.len()),
        None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
    };
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body.unwrap_or_default()));
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A URL on which nothing listens: connecting is refused.
fn dead_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}/", listener.local_addr().unwrap())
}

#[test]
fn real_mnist_counts_histogram_and_pixel_statistics() {
    let Some(root) = data_folder("real_mnist_counts_histogram_and_pixel_statistics") else { return };
    let train = Mnist::train(&root).unwrap();
    let test = Mnist::test(&root).unwrap();
    assert_eq!((train.len(), test.len()), (60_000, 10_000));
    assert_eq!(train.images().shape(), vec![60_000, 1, 28, 28]);
    let mut counts = [0usize; 10];
    for label in train.labels().to_vec::<i64>() {
        counts[label as usize] += 1;
    }
    assert_eq!(counts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);

    let pixels = train.images().to_vec::<f32>();
    let mean = pixels.iter().map(|&p| f64::from(p)).sum::<f64>() / pixels.len() as f64;
    let var = pixels.iter().map(|&p| (f64::from(p) - mean).powi(2)).sum::<f64>() / pixels.len() as f64;
    assert!((mean - 0.1307).abs() < 1e-4 && (var.sqrt() - 0.3081).abs() < 1e-4, "mean {mean}, std {}", var.sqrt());

    let normalized = test.normalize(Mnist::MEAN, Mnist::STD).images().to_vec::<f32>();
    let mean = normalized.iter().map(|&p| f64::from(p)).sum::<f64>() / normalized.len() as f64;
    assert!(mean.abs() < 0.05, "normalized test mean {mean}");
}

#[test]
fn default_root_is_nabla_data_then_data() {
    let expected = std::env::var_os("NABLA_DATA").filter(|v| !v.is_empty()).map_or("data".into(), PathBuf::from);
    assert_eq!(Mnist::default_root(), expected);
}

#[test]
fn download_fetches_verifies_and_skips_intact_files() {
    let Some(data) = data_folder("download_fetches_verifies_and_skips_intact_files") else { return };
    let files: HashMap<String, Vec<u8>> =
        FILES.iter().map(|f| (f.to_string(), fs::read(data.join("mnist").join(f)).unwrap())).collect();
    let server = Server::start(files.clone());
    let root = temp_dir("download");
    let mirrors = [server.url("missing"), server.url("good")];
    let mirrors: Vec<&str> = mirrors.iter().map(String::as_str).collect();

    Mnist::download_from(&root, &mirrors).unwrap();
    assert_eq!(server.hits(), 8, "each file: a 404 from the first mirror, then the second");
    for f in FILES {
        assert_eq!(fs::read(root.join("mnist").join(f)).unwrap(), files[f], "{f}");
    }
    assert_eq!(fs::read_dir(root.join("mnist")).unwrap().count(), 4, "no temporary files left");
    assert_eq!(Mnist::test(&root).unwrap().len(), 10_000);

    Mnist::download_from(&root, &mirrors).unwrap();
    assert_eq!(server.hits(), 8, "intact files are not fetched again");

    fs::write(root.join("mnist").join(FILES[3]), b"damaged").unwrap();
    Mnist::download_from(&root, &mirrors).unwrap();
    assert_eq!(server.hits(), 10, "only the damaged file is fetched again");
    assert_eq!(fs::read(root.join("mnist").join(FILES[3])).unwrap(), files[FILES[3]]);
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_corrupted_download_is_rejected_with_each_mirrors_error() {
    let server = Server::start(HashMap::new());
    let root = temp_dir("corrupted");
    let (missing, corrupt, dead) = (server.url("missing"), server.url("corrupt"), dead_url());
    let err = Mnist::download_from(&root, &[&missing, &corrupt, &dead]).unwrap_err();

    let DataError::Download { file, attempts } = &err else { panic!("{err:?}") };
    assert_eq!(file, "train-images-idx3-ubyte.gz");
    let DataError::Http { url, reason } = &attempts[0] else { panic!("{:?}", attempts[0]) };
    assert!(url.ends_with("/missing/train-images-idx3-ubyte.gz") && reason.contains("404"), "{url}: {reason}");
    let DataError::Checksum { url, expected, found } = &attempts[1] else { panic!("{:?}", attempts[1]) };
    assert!(url.ends_with("/corrupt/train-images-idx3-ubyte.gz"));
    assert_eq!(expected, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db");
    assert_eq!(found.len(), 64);
    assert!(matches!(&attempts[2], DataError::Http { .. }), "{:?}", attempts[2]);
    assert_eq!(attempts.len(), 3);
    assert!(err.to_string().starts_with("could not download train-images-idx3-ubyte.gz from any mirror; [1] GET "));

    assert_eq!(fs::read_dir(root.join("mnist")).unwrap().count(), 0, "nothing is written");
    fs::remove_dir_all(&root).unwrap();
}
