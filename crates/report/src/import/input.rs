//! Log files: plain or gzip-compressed, read line by line, rotated files oldest first.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use flate2::read::MultiGzDecoder;

use super::line::{Stamp, split};

/// The rotation number of a file name: 3 for `mail.log.3.gz`, 1 for `mail.log.1`, none for
/// `mail.log`.
fn rotation(path: &Path) -> Option<u32> {
    let name = path.file_name()?.to_str()?;
    let name = name.strip_suffix(".gz").unwrap_or(name);
    let (_, number) = name.rsplit_once('.')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok()
}

/// The files in reading order: highest rotation number first, files without one last, each
/// group in the order given.
pub(crate) fn in_order(files: &[PathBuf]) -> Vec<&Path> {
    let mut order: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    order.sort_by_key(|path| std::cmp::Reverse(rotation(path).map_or(0, |n| u64::from(n) + 1)));
    order
}

/// When the file was last modified, if the system says.
pub(crate) fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).ok()?.modified().ok()
}

/// Lines of a file, gzip-compressed or not.
pub(crate) struct Lines {
    reader: Box<dyn BufRead>,
    buffer: Vec<u8>,
}

impl Lines {
    /// Opens `path`; a file starting with gzip's magic bytes is decompressed (all its
    /// members, as rotated and concatenated files have several).
    pub(crate) fn open(path: &Path) -> io::Result<Lines> {
        let mut file = BufReader::with_capacity(1 << 16, File::open(path)?);
        let gzip = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn BufRead> = if gzip {
            Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(file)))
        } else {
            Box::new(file)
        };
        Ok(Lines {
            reader,
            buffer: Vec::with_capacity(512),
        })
    }

    /// The next line without its line end; `None` at the end.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        self.buffer.clear();
        if self.reader.read_until(b'\n', &mut self.buffer)? == 0 {
            return Ok(None);
        }
        let mut line = self.buffer.as_slice();
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        Ok(Some(line))
    }
}

impl std::fmt::Debug for Lines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lines").finish_non_exhaustive()
    }
}

/// The timestamp of the first readable line among the first thousand of `path`.
pub(crate) fn first_stamp(path: &Path) -> io::Result<Option<Stamp>> {
    let mut lines = Lines::open(path)?;
    for _ in 0..1000 {
        let Ok(Some(line)) = lines.next_line() else {
            return Ok(None);
        };
        if let Some(line) = split(&String::from_utf8_lossy(line)) {
            return Ok(Some(line.stamp));
        }
    }
    Ok(None)
}

/// Reads all of `reader` (for tests of broken streams).
#[cfg(test)]
fn read_all(mut reader: impl std::io::Read) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    reader.read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_files_come_oldest_first() {
        let files: Vec<PathBuf> = [
            "mail.log",
            "mail.log.1",
            "mail.log.10.gz",
            "mail.log.2.gz",
            "other.log",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let order: Vec<&str> = in_order(&files)
            .iter()
            .map(|p| p.to_str().unwrap())
            .collect();
        assert_eq!(
            order,
            [
                "mail.log.10.gz",
                "mail.log.2.gz",
                "mail.log.1",
                "mail.log",
                "other.log"
            ]
        );
        assert_eq!(rotation(Path::new("mail.log")), None);
        assert_eq!(rotation(Path::new("mail.log.gz")), None);
    }

    #[test]
    fn gzip_is_recognised_by_its_bytes() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("smtpsim-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log-without-suffix");
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"a\r\nb\nc").unwrap();
        let bytes = gz.finish().unwrap();
        assert_eq!(
            read_all(MultiGzDecoder::new(&bytes[..])).unwrap(),
            b"a\r\nb\nc"
        );
        std::fs::write(&path, &bytes).unwrap();
        let mut lines = Lines::open(&path).unwrap();
        let mut seen = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            seen.push(String::from_utf8(line.to_vec()).unwrap());
        }
        assert_eq!(seen, ["a", "b", "c"]);
        // Cut short, the stream reports an error instead of ending quietly.
        std::fs::write(&path, &bytes[..bytes.len() - 6]).unwrap();
        let mut lines = Lines::open(&path).unwrap();
        let mut failed = false;
        for _ in 0..4 {
            match lines.next_line() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        assert!(failed);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
