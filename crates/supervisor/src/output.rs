//! A service's output: drained continuously, line by line, into a bounded ring buffer and a
//! rotated log file, so a chatty service never blocks on a full pipe.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{broadcast, oneshot};

/// The longest line kept, in bytes of text; the rest of a longer line is dropped (the log
/// file keeps it whole).
pub const MAX_LINE: usize = 16 * 1024;

/// The most text one service's ring keeps, in bytes, whatever its line count: bytes that
/// are not UTF-8 come out three times larger as U+FFFD, so lines alone do not bound memory.
pub const MAX_RING_BYTES: usize = 1024 * 1024;

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One line of a service's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct LogLine {
    /// The stream it came from.
    pub stream: Stream,
    /// The text, without its line ending.
    pub text: String,
}

/// The most recent lines of one service, shared by its output drain (writer) and whoever
/// asks for logs (readers). Followers get new lines through a broadcast channel, made when
/// the first one comes: most services are never followed, and a channel costs memory.
#[derive(Debug)]
pub struct LogBuffer {
    lines: Mutex<Ring>,
    capacity: usize,
    total_bytes: AtomicU64,
    follow: OnceLock<broadcast::Sender<LogLine>>,
}

/// The lines themselves, and how many bytes of text they hold.
#[derive(Debug, Default)]
struct Ring {
    lines: VecDeque<LogLine>,
    bytes: usize,
}

impl LogBuffer {
    /// A buffer keeping the last `capacity` lines, and at most [`MAX_RING_BYTES`] of text.
    pub fn new(capacity: usize) -> Self {
        LogBuffer {
            lines: Mutex::new(Ring::default()),
            capacity,
            total_bytes: AtomicU64::new(0),
            follow: OnceLock::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Ring> {
        // A panic while holding the lock leaves whole lines behind: the data is still good.
        self.lines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a line, dropping the oldest when full.
    pub fn push(&self, line: LogLine) {
        if let Some(follow) = self.follow.get() {
            // Nobody following any more is the normal case, not an error.
            let _ = follow.send(line.clone());
        }
        let mut ring = self.lock();
        ring.bytes += line.text.len();
        ring.lines.push_back(line);
        while ring.lines.len() > self.capacity || ring.bytes > MAX_RING_BYTES {
            let Some(oldest) = ring.lines.pop_front() else {
                break;
            };
            ring.bytes -= oldest.text.len();
        }
    }

    /// The last `count` lines, oldest first.
    pub fn recent(&self, count: usize) -> Vec<LogLine> {
        let ring = self.lock();
        let lines = &ring.lines;
        lines
            .iter()
            .skip(lines.len().saturating_sub(count))
            .cloned()
            .collect()
    }

    /// New lines from now on.
    pub fn follow(&self) -> broadcast::Receiver<LogLine> {
        self.follow
            .get_or_init(|| broadcast::channel(256).0)
            .subscribe()
    }

    /// Bytes of output received so far, over all instances.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes.load(Ordering::Relaxed)
    }
}

/// A log file that rotates: `NAME.log`, then `NAME.log.1` … `NAME.log.N`. A write that
/// fails (a full disk) loses only its own bytes: the next write tries again, and
/// [`LogFile::failing`] says whether the last one failed.
#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    /// The open file; `None` when reopening it after a rotation failed (tried again at the
    /// next write).
    file: Option<File>,
    size: u64,
    max_size: u64,
    keep: usize,
    failing: bool,
}

impl LogFile {
    /// Opens (appending) the log at `path`, rotating when it outgrows `max_size`, keeping
    /// `keep` old files.
    /// Its folder is made private to the user, and a symbolic link at `path` is refused,
    /// never written through.
    pub fn open(path: &Path, max_size: u64, keep: usize) -> io::Result<Self> {
        if let Some(parent) = path.parent() {
            crate::persist::create_private_dir(parent)?;
        }
        let file = open_for_append(path)?;
        let size = file.metadata()?.len();
        Ok(LogFile {
            path: path.to_path_buf(),
            file: Some(file),
            size,
            max_size,
            keep,
            failing: false,
        })
    }

    /// Appends bytes (unbuffered: the drain writes whole chunks), rotating first when they
    /// would not fit.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let written = self.try_write(bytes);
        self.failing = written.is_err();
        written
    }

    /// Whether the last write failed.
    pub fn failing(&self) -> bool {
        self.failing
    }

    fn try_write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.size > 0 && self.size + bytes.len() as u64 > self.max_size {
            self.rotate()?;
        }
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(open_for_append(&self.path)?),
        };
        file.write_all(bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        let numbered = |n: usize| PathBuf::from(format!("{}.{n}", self.path.display()));
        for n in (1..self.keep).rev() {
            let from = numbered(n);
            if from.exists() {
                std::fs::rename(&from, numbered(n + 1))?;
            }
        }
        if self.keep > 0 {
            std::fs::rename(&self.path, numbered(1))?;
        } else {
            std::fs::remove_file(&self.path)?;
        }
        self.file = Some(open_for_append(&self.path)?);
        self.size = 0;
        Ok(())
    }
}

/// Where one instance's output goes.
pub struct OutputSink {
    /// The service's ring buffer.
    pub buffer: Arc<LogBuffer>,
    /// The service's log file, when one could be opened.
    pub file: Option<LogFile>,
    /// A pattern whose first match on a new line signals readiness (a `log` health check).
    pub ready_when: Option<(regex::Regex, oneshot::Sender<()>)>,
    /// Told when writing the log file fails (why, in a sentence) and when it works again
    /// (`None`), so the service's card can say so.
    pub log_writing: Option<tokio::sync::mpsc::UnboundedSender<Option<String>>>,
}

/// Splits a byte stream into lines, capping each at [`MAX_LINE`].
#[derive(Default)]
struct LineSplitter {
    partial: Vec<u8>,
    overflow: bool,
}

impl LineSplitter {
    fn feed(&mut self, chunk: &[u8], mut emit: impl FnMut(&[u8])) {
        let mut rest = chunk;
        while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
            self.append(&rest[..newline]);
            let line = std::mem::take(&mut self.partial);
            emit(line.strip_suffix(b"\r").unwrap_or(&line));
            self.overflow = false;
            rest = &rest[newline + 1..];
        }
        self.append(rest);
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.overflow {
            return;
        }
        let room = MAX_LINE - self.partial.len();
        self.partial
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.overflow = bytes.len() > room;
    }

    fn finish(&mut self, emit: impl FnMut(&[u8])) {
        if !self.partial.is_empty() {
            self.feed(b"\n", emit);
        }
    }
}

/// Turns chunks of a service's output into lines in its sink.
pub struct Drainer {
    sink: OutputSink,
    out: LineSplitter,
    err: LineSplitter,
}

impl Drainer {
    /// A drainer writing into `sink`.
    pub fn new(sink: OutputSink) -> Self {
        Drainer {
            sink,
            out: LineSplitter::default(),
            err: LineSplitter::default(),
        }
    }

    /// Takes one chunk of one stream: to the log file as it is, to the buffer line by line.
    pub fn feed(&mut self, stream: Stream, chunk: &[u8]) {
        let sink = &mut self.sink;
        sink.buffer
            .total_bytes
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
        if let Some(file) = &mut sink.file {
            let was_failing = file.failing();
            // Said once when writing fails and once when it works again, in the service's
            // own log (what the dashboard shows) and the supervisor's.
            let change = match file.write(chunk) {
                Err(error) if !was_failing => Some(Some(format!(
                    "cannot write logs: {}; the latest lines are kept in memory",
                    why_not_written(&error)
                ))),
                Ok(()) if was_failing => Some(None),
                _ => None,
            };
            if let Some(problem) = change {
                let said = problem.as_deref().unwrap_or("writing logs again");
                tracing::warn!("{}: {said}", file.path.display());
                sink.buffer.push(LogLine {
                    stream: Stream::Stderr,
                    text: format!("[ClaraVerse] {said}"),
                });
                if let Some(tell) = &sink.log_writing {
                    // The manager may be gone (shutting down): nobody to tell then.
                    let _ = tell.send(problem);
                }
            }
        }
        let splitter = match stream {
            Stream::Stdout => &mut self.out,
            Stream::Stderr => &mut self.err,
        };
        splitter.feed(chunk, |line| record(sink, stream, line));
    }

    /// The stream ended: its unfinished last line counts as a line.
    pub fn finish(&mut self, stream: Stream) {
        let sink = &mut self.sink;
        let splitter = match stream {
            Stream::Stdout => &mut self.out,
            Stream::Stderr => &mut self.err,
        };
        splitter.finish(|line| record(sink, stream, line));
    }
}

/// Why a log write failed, in words.
fn why_not_written(error: &io::Error) -> String {
    if error.kind() == io::ErrorKind::StorageFull {
        "disk full".to_string()
    } else {
        error.to_string()
    }
}

/// Opens a log to append to, private to the user, refusing a symbolic link.
fn open_for_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    crate::persist::private_and_not_through_links(&mut options);
    options.open(path)
}

/// How much of a stream one read takes (the pipe holds 64 KiB; more reads drain it).
const READ_CHUNK: usize = 8 * 1024;

/// Reads both streams until both close, writing every line to the sink.
pub async fn drain<O, E>(stdout: Option<O>, stderr: Option<E>, sink: OutputSink)
where
    O: AsyncRead + Unpin,
    E: AsyncRead + Unpin,
{
    let mut out = stdout;
    let mut err = stderr;
    let mut drainer = Drainer::new(sink);
    // Small chunks: a supervisor drains hundreds of services, mostly quiet ones.
    let mut out_chunk = vec![0u8; READ_CHUNK];
    let mut err_chunk = vec![0u8; READ_CHUNK];
    while out.is_some() || err.is_some() {
        let (stream, read) = tokio::select! {
            read = read_from(&mut out, &mut out_chunk), if out.is_some() => (Stream::Stdout, read),
            read = read_from(&mut err, &mut err_chunk), if err.is_some() => (Stream::Stderr, read),
        };
        match read {
            Ok(0) | Err(_) => {
                drainer.finish(stream);
                match stream {
                    Stream::Stdout => out = None,
                    Stream::Stderr => err = None,
                }
            }
            Ok(count) => {
                let chunk = match stream {
                    Stream::Stdout => &out_chunk[..count],
                    Stream::Stderr => &err_chunk[..count],
                };
                drainer.feed(stream, chunk);
            }
        }
    }
}

async fn read_from<R: AsyncRead + Unpin>(
    reader: &mut Option<R>,
    chunk: &mut [u8],
) -> io::Result<usize> {
    match reader {
        Some(reader) => reader.read(chunk).await,
        None => Ok(0),
    }
}

fn record(sink: &mut OutputSink, stream: Stream, line: &[u8]) {
    let mut text = String::from_utf8_lossy(line).into_owned();
    if text.len() > MAX_LINE {
        // Bytes that are not UTF-8 grew as U+FFFD: cut back, at a character's edge.
        let mut end = MAX_LINE;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    let matched = sink
        .ready_when
        .as_ref()
        .is_some_and(|(pattern, _)| pattern.is_match(&text));
    if matched && let Some((_, ready)) = sink.ready_when.take() {
        // The prober may have stopped waiting: nothing to tell then.
        let _ = ready.send(());
    }
    sink.buffer.push(LogLine { stream, text });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<String> {
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        for chunk in chunks {
            splitter.feed(chunk, |line| {
                lines.push(String::from_utf8_lossy(line).into_owned())
            });
        }
        splitter.finish(|line| lines.push(String::from_utf8_lossy(line).into_owned()));
        lines
    }

    #[test]
    fn lines_across_chunks_and_crlf() {
        assert_eq!(split(&[b"a\nb", b"c\r\nd"]), ["a", "bc", "d"]);
    }

    #[test]
    fn long_lines_are_capped() {
        let long = vec![b'x'; MAX_LINE * 3];
        let lines = split(&[&long, b"\nnext\n"]);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), MAX_LINE);
        assert_eq!(lines[1], "next");
    }

    #[test]
    fn the_ring_buffer_keeps_the_newest_lines() {
        let buffer = LogBuffer::new(3);
        for i in 0..5 {
            buffer.push(LogLine {
                stream: Stream::Stdout,
                text: i.to_string(),
            });
        }
        let texts: Vec<String> = buffer.recent(10).into_iter().map(|l| l.text).collect();
        assert_eq!(texts, ["2", "3", "4"]);
        assert_eq!(buffer.recent(1)[0].text, "4");
    }

    #[test]
    fn bytes_that_are_not_text_take_bounded_memory() {
        let buffer = Arc::new(LogBuffer::new(100_000));
        let mut drainer = Drainer::new(OutputSink {
            buffer: buffer.clone(),
            file: None,
            ready_when: None,
            log_writing: None,
        });
        // Lines of 0xFF: each byte becomes U+FFFD, three bytes of text.
        let mut chunk = vec![0xFF; MAX_LINE];
        chunk.push(b'\n');
        for _ in 0..500 {
            drainer.feed(Stream::Stdout, &chunk);
        }
        let lines = buffer.recent(usize::MAX);
        assert!(lines.iter().all(|line| line.text.len() <= MAX_LINE));
        let held: usize = lines.iter().map(|line| line.text.len()).sum();
        assert!(held <= MAX_RING_BYTES, "{held} bytes held");
        assert!(
            held > MAX_RING_BYTES - MAX_LINE,
            "and the ring is used: {held}"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_log_that_cannot_be_written_is_said_once() {
        // /dev/full answers every write with ENOSPC: a real full disk.
        let buffer = Arc::new(LogBuffer::new(100));
        let (told, mut tellings) = tokio::sync::mpsc::unbounded_channel();
        let mut drainer = Drainer::new(OutputSink {
            buffer: buffer.clone(),
            file: Some(LogFile::open(Path::new("/dev/full"), 1 << 20, 1).expect("opens")),
            ready_when: None,
            log_writing: Some(told),
        });
        for _ in 0..3 {
            drainer.feed(Stream::Stdout, b"hello\n");
        }
        let texts: Vec<String> = buffer.recent(10).into_iter().map(|l| l.text).collect();
        assert_eq!(
            texts,
            [
                "[ClaraVerse] cannot write logs: disk full; the latest lines are kept in memory",
                "hello",
                "hello",
                "hello"
            ]
        );
        assert_eq!(
            tellings.try_recv().ok(),
            Some(Some(
                "cannot write logs: disk full; the latest lines are kept in memory".to_string()
            )),
            "the card is told once"
        );
        assert!(tellings.try_recv().is_err());
    }

    #[test]
    fn log_files_rotate_and_keep_a_few() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("svc.log");
        let mut log = LogFile::open(&path, 10, 2).expect("opens");
        for chunk in [b"0123456789", b"abcdefghij", b"ABCDEFGHIJ", b"klmnopqrst"] {
            log.write(chunk).expect("writes");
        }
        let read = |p: &Path| std::fs::read_to_string(p).expect("readable");
        assert_eq!(read(&path), "klmnopqrst");
        assert_eq!(read(&dir.path().join("svc.log.1")), "ABCDEFGHIJ");
        assert_eq!(read(&dir.path().join("svc.log.2")), "abcdefghij");
        assert!(!dir.path().join("svc.log.3").exists());
    }
}
